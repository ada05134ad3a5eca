type Child = Node | string | null | undefined | false;

export interface ElementOptions {
  className?: string;
  testId?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
  data?: Record<string, string>;
}

/** `document.createElement` with the few things every call sets; strings become text nodes, never HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElementOptions = {},
  children: Child[] = [],
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (options.className) element.className = options.className;
  if (options.testId) element.dataset.testid = options.testId;
  if (options.text !== undefined) element.textContent = options.text;
  if (options.title) element.title = options.title;
  for (const [name, value] of Object.entries(options.attrs ?? {})) element.setAttribute(name, value);
  for (const [name, value] of Object.entries(options.data ?? {})) element.dataset[name] = value;
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
  return element;
}

export function button(
  label: string,
  onClick: () => void,
  options: ElementOptions & { disabled?: boolean; secondary?: boolean } = {},
): HTMLButtonElement {
  const className = [options.secondary ? 'button secondary' : 'button', options.className].filter(Boolean).join(' ');
  const element = h('button', { ...options, className, text: label });
  element.type = 'button';
  element.disabled = options.disabled ?? false;
  element.addEventListener('click', onClick);
  return element;
}

export function show(element: HTMLElement, visible: boolean): void {
  element.hidden = !visible;
}
