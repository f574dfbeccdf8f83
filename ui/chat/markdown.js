// Model output as Markdown: marked (GitHub-flavoured: tables, fenced code), code highlighted by
// highlight.js, LaTeX by KaTeX as MathML (browsers draw MathML themselves, so no fonts or
// KaTeX stylesheet ship), and every result passed through DOMPurify before it touches the DOM.
// Images are not allowed: a reply must not make the browser fetch from anywhere.
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import katex from 'katex';
import { Marked } from 'marked';

// The languages people ask small models about most; each adds a few KiB to the executable.
for (const [name, language] of Object.entries({
  bash, c, cpp, css, diff, go, java, javascript, json, markdown, python, rust, sql, typescript, xml, yaml,
})) hljs.registerLanguage(name, language);

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch]));
}

function renderMath(tex, displayMode) {
  // throwOnError false: a half-streamed or wrong formula shows as red source, never an exception.
  return katex.renderToString(tex, { displayMode, output: 'mathml', throwOnError: false });
}

// $$...$$ and \[...\] as blocks; $...$ and \(...\) inline. A single $ opens math only when
// followed by a non-space and closed by a non-space $ not followed by a digit, so prices
// ("$5 and $10") stay text.
const mathExtensions = [
  {
    name: 'blockMath', level: 'block',
    start: (src) => src.match(/\$\$|\\\[/)?.index,
    tokenizer(src) {
      const m = /^\$\$([\s\S]+?)\$\$|^\\\[([\s\S]+?)\\\]/.exec(src);
      if (m) return { type: 'blockMath', raw: m[0], text: (m[1] ?? m[2]).trim() };
      return undefined;
    },
    renderer: (token) => `<div class="math-block">${renderMath(token.text, true)}</div>\n`,
  },
  {
    name: 'inlineMath', level: 'inline',
    start: (src) => src.match(/\$|\\\(/)?.index,
    tokenizer(src) {
      const m = /^\$\$([\s\S]+?)\$\$|^\\\(([\s\S]+?)\\\)|^\$(?=\S)([^$\n]*?\S)\$(?!\d)/.exec(src);
      if (!m) return undefined;
      const display = m[1] !== undefined;
      return { type: 'inlineMath', raw: m[0], text: (m[1] ?? m[2] ?? m[3]).trim(), display };
    },
    renderer: (token) => renderMath(token.text, token.display),
  },
];

const marked = new Marked({
  gfm: true,
  breaks: true,
  extensions: mathExtensions,
  renderer: {
    code({ text, lang }) {
      const language = (lang || '').trim().split(/\s+/)[0].toLowerCase();
      const known = language && hljs.getLanguage(language);
      const body = known ? hljs.highlight(text, { language, ignoreIllegals: true }).value : escapeHtml(text);
      const label = known ? language : '';
      return `<pre data-language="${escapeHtml(label)}"><code class="hljs">${body}</code></pre>\n`;
    },
  },
});

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  // Links open in a new tab and give the target no handle on this page.
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

export function markdownToSafeHtml(text) {
  const html = marked.parse(text, { async: false });
  return DOMPurify.sanitize(html, { FORBID_TAGS: ['img', 'style', 'form', 'input', 'button', 'textarea', 'select'] });
}

// Fills `element` with the rendered text and gives each code block a copy button.
export function renderMarkdown(element, text) {
  element.innerHTML = markdownToSafeHtml(text);
  for (const pre of element.querySelectorAll('pre')) {
    const bar = document.createElement('div');
    bar.className = 'code-bar';
    const name = document.createElement('span');
    name.textContent = pre.dataset.language || 'text';
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.className = 'copy-code';
    copy.textContent = 'Copy';
    copy.setAttribute('aria-label', `Copy ${name.textContent} code`);
    copy.addEventListener('click', () => copyText(pre.querySelector('code').textContent, copy));
    bar.append(name, copy);
    pre.before(bar);
  }
  // Wide tables scroll inside the message instead of widening the page.
  for (const table of element.querySelectorAll('table')) {
    const wrap = document.createElement('div');
    wrap.className = 'table-wrap';
    table.replaceWith(wrap);
    wrap.append(table);
  }
}

export async function copyText(text, button) {
  let ok = true;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    ok = false;
  }
  if (button) {
    const label = button.textContent;
    button.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => { button.textContent = label; }, 1500);
  }
  return ok;
}
