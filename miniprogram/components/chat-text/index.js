/**
 * One plain-text content of a chat message: TDesign's t-chat-content (1.16) for content of type
 * "text", with its markup and styles, without the markdown branch (TDesign's chat-markdown and
 * marked, ~58 KB of the main package, which the app never shows: its answers are blocks).
 * The text is escaped for rich-text, as t-chat-content does, so "<3>" shows as written.
 */
const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const UNSAFE = /[<>"']|&(?!(#\d{1,7}|#[Xx][a-fA-F0-9]{1,6}|\w+);)/g; // an entity already written stays

function escape(text) {
  return String(text).replace(UNSAFE, (c) => ENTITIES[c]);
}

Component({
  options: { virtualHost: true },
  externalClasses: ['class'],
  properties: {
    content: { type: Object, value: {} }, // { type: 'text', data }
    role: { type: String, value: '' },
    status: { type: String, value: '' },
  },
  data: { textInfo: '' },
  observers: {
    content(content) {
      this.setData({ textInfo: escape((content && content.data) || '') });
    },
  },
});
