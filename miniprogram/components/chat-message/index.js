/**
 * One chat message: TDesign's t-chat-message (1.16) with its markup and styles, for what the chat
 * uses (a time, text content or the "content" slot), its text drawn by chat-text instead of
 * t-chat-content, which pulls TDesign's markdown renderer into the main package.
 */
Component({
  options: { virtualHost: true, multipleSlots: true },
  externalClasses: ['class'],
  properties: {
    role: { type: String, value: '' }, // user | assistant
    placement: { type: String, value: 'left' },
    variant: { type: String, value: 'base' }, // base | outline | text
    datetime: { type: String, value: '' },
    content: { type: Array, value: [] }, // [{ type: 'text', data }]; empty: the "content" slot
  },
});
