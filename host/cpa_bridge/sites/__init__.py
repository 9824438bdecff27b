"""The relay sites' side: what a relay site (New API, One API, Veloera) says about a user's keys."""
