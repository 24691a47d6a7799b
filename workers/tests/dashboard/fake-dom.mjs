// Just enough of the DOM for dom.js's `h` and `replace` to build elements
// under node, so a view's rendering can be unit-tested without a browser:
// elements, text nodes, attributes (data-* mirrored into `dataset`),
// `hidden`, `textContent`, and a search by predicate.

class FakeNode {}

class FakeText extends FakeNode {
  constructor(text) {
    super();
    this.data = String(text);
  }

  get textContent() {
    return this.data;
  }
}

class FakeElement extends FakeNode {
  constructor(tag) {
    super();
    this.tagName = tag.toUpperCase();
    this.childNodes = [];
    this.attributes = new Map();
    this.className = '';
    this.dataset = {};
    this.hidden = false;
    this.open = false;
    this.listeners = {};
    this.style = {};
  }

  setAttribute(name, value) {
    this.attributes.set(name, String(value));
    if (name === 'hidden') this.hidden = true;
    if (name === 'open') this.open = true;
    if (name.startsWith('data-')) {
      this.dataset[name.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = String(value);
    }
  }

  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }

  addEventListener(name, listener) {
    (this.listeners[name] ||= []).push(listener);
  }

  appendChild(child) {
    this.childNodes.push(child);
    return child;
  }

  replaceChildren(...children) {
    this.childNodes = [...children];
  }

  get textContent() {
    return this.childNodes.map((c) => c.textContent).join('');
  }

  set textContent(text) {
    this.childNodes = [new FakeText(text)];
  }
}

/** Installs the fake `document` and `Node` as globals. */
export function installFakeDom() {
  globalThis.Node = FakeNode;
  globalThis.document = {
    createElement: (tag) => new FakeElement(tag),
    createTextNode: (text) => new FakeText(text),
  };
}

/** Every element under `root` (itself included) that `match` accepts, in document order. */
export function findAll(root, match) {
  const found = [];
  const visit = (node) => {
    if (!(node instanceof FakeElement)) return;
    if (match(node)) found.push(node);
    node.childNodes.forEach(visit);
  };
  visit(root);
  return found;
}

/** Elements carrying `data-testid="<id>"`. */
export const byTestId = (root, id) => findAll(root, (el) => el.dataset.testid === id);
