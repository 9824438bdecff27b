"""The relay-site side: what the host fetches from the sites users hold keys on (model lists;
relay accounts). Everything here sends a user's key only to the URL it belongs to."""
