// Small DOM helpers. Text always goes in through textContent.

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return [...root.querySelectorAll(selector)];
}

/**
 * Create an element: el('li', {className: 'x', text: 'y', attrs: {'data-id': 1}}, [children]).
 */
export function el(tag, { className, text, attrs, dataset, on } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === undefined || value === null) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  Object.assign(node.dataset, dataset ?? {});
  for (const [event, handler] of Object.entries(on ?? {})) {
    node.addEventListener(event, handler);
  }
  for (const child of [].concat(children)) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

/** A deep copy of the first element of <template id="…">. */
export function fromTemplate(id) {
  const template = document.getElementById(id);
  if (!template.dataset.iconsInline) {
    inlineIcons(template.content);
    template.dataset.iconsInline = 'true';
  }
  return template.content.firstElementChild.cloneNode(true);
}

/** Draw the sprite symbol `symbolId` inside `svg` itself (its shapes copied, no <use>). */
function drawIcon(svg, symbolId) {
  const symbol = document.getElementById(symbolId);
  if (!symbol) return;
  svg.setAttribute('viewBox', symbol.getAttribute('viewBox') ?? '0 0 24 24');
  svg.replaceChildren(...[...symbol.children].map((node) => node.cloneNode(true)));
  svg.dataset.icon = symbolId;
}

/**
 * The sprite icons of a template, drawn inline (the same picture): a <use> has a shadow tree of
 * its own, which the browser restyles even inside an off-screen (content-visibility) card; with
 * 50 site cards, opening a dialog (the page turns inert) restyled ~300 more elements.
 */
function inlineIcons(root) {
  for (const use of root.querySelectorAll('svg.icon > use')) {
    drawIcon(use.parentNode, (use.getAttribute('href') ?? '').replace(/^#/, ''));
  }
}

/** Show or hide a node (the hidden attribute). */
export function show(node, visible = true) {
  node.hidden = !visible;
}

/** Disable a button while `work` runs; marks it busy for assistive tech. */
export async function whileBusy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/**
 * Run `fn` once the browser has painted what is on the page now: after the next frame (a task
 * queued from requestAnimationFrame runs after that frame's paint). For work the user does not
 * wait for, so it does not hold back a result they do.
 */
export function afterNextPaint(fn) {
  requestAnimationFrame(() => setTimeout(fn, 0));
}

export function debounce(fn, waitMs) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), waitMs);
  };
}

/** Point the <use> of an icon button at another sprite symbol. */
export function applyIcon(button, symbolId) {
  const use = button.querySelector('use');
  if (use) use.setAttribute('href', `#${symbolId}`);
  else {
    const svg = button.querySelector('svg.icon');
    if (svg) drawIcon(svg, symbolId);
  }
}

/** Name an icon button for assistive tech and as a tooltip. */
export function setLabel(button, text) {
  button.setAttribute('aria-label', text);
  button.title = text;
}

/** An <svg class="icon"> that shows one symbol of the page's sprite (decorative). */
export function svgIcon(symbolId) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(ns, 'use');
  use.setAttribute('href', `#${symbolId}`);
  svg.append(use);
  return svg;
}
