// Problem statements are Markdown from the problem library: render them without letting them run anything.
import MarkdownIt from 'markdown-it';

// html:false escapes raw HTML; markdown-it's link validation refuses javascript:, vbscript:, file: and data: (but images) URLs.
const markdown = new MarkdownIt({ html: false, linkify: true, typographer: false });

const defaultLinkOpen = markdown.renderer.rules.link_open
  ?? ((tokens, index, options, _env, self) => self.renderToken(tokens, index, options));
markdown.renderer.rules.link_open = (tokens, index, options, env, self) => {
  tokens[index].attrSet('target', '_blank');
  tokens[index].attrSet('rel', 'noopener noreferrer');
  return defaultLinkOpen(tokens, index, options, env, self);
};

/** HTML for a problem statement; safe to assign to innerHTML. */
export function renderStatement(text) {
  return markdown.render(String(text ?? ''));
}
