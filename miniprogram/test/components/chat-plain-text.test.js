/**
 * The chat shows plain text only (the server's blocks carry no markdown), so the main package does
 * not carry TDesign's markdown renderer (chat-markdown and marked, ~58 KB): the chat list, the
 * message bubbles and the text of a block are the app's own components, drawn with TDesign's
 * markup and styles.
 */
const path = require('path');
const { measure } = require('../../scripts/check-size');
const { mount, settle, text } = require('../support/simulate');
const blocks = require('../../services/chat/blocks');

const ROOT = path.resolve(__dirname, '../..');

test('the main package holds no markdown renderer (TDesign chat-markdown, marked)', () => {
  const { packages, missing } = measure(ROOT);
  expect(missing).toEqual([]);
  expect(packages.main.files.filter((f) => /\/chat-markdown\/|\/marked\//.test(f))).toEqual([]);
});

test('a text block shows its text as written, markup characters included, in TDesign\'s content classes', async () => {
  const comp = mount('components/chat-blocks/index', { blocks: blocks.reply({ blocks: [{ type: 'text', text: '合计 <3> & "4" 户' }] }).blocks });
  await settle();
  const content = comp.querySelector('.content');
  expect(content.instance.data.content).toEqual({ type: 'text', data: '合计 <3> & "4" 户' });
  expect(content.instance.data.textInfo).toBe('合计 &lt;3&gt; &amp; &quot;4&quot; 户'); // rich-text shows it literally
  expect(content.querySelector('.t-chat-content__assistant ._pre')).toBeTruthy();
});

test('a user message is a bubble with its time and text; an assistant message shows its slot', async () => {
  const user = mount('components/chat-message/index', { role: 'user', placement: 'right', variant: 'base', datetime: '20:35', content: [{ type: 'text', data: '王家湾村' }] });
  await settle();
  const classes = (node) => node.dom.className.split(/\s+/).map((c) => c.replace(/^[\w-]+?--(?=t-|user|right|left|assistant)/, ''));
  expect(classes(user.querySelector('.t-chat-message'))).toEqual(expect.arrayContaining(['t-chat-message', 't-chat-message--base', 'user', 'right', 't-chat-message__header']));
  expect(text(user.querySelector('.t-chat-message__time'))).toBe('20:35');
  expect(user.dom.innerHTML).toMatch(/t-chat-content__user[^>]*><wx-view class="[\w-]*_pre"><wx-rich-text>/); // the text, in chat-text
  expect(user.querySelector('.t-chat-message__actionbar')).toBeFalsy();

  const assistant = mount('components/chat-message/index', { role: 'assistant', placement: 'left', variant: 'text', content: [] });
  await settle();
  expect(classes(assistant.querySelector('.t-chat-message'))).toEqual(expect.arrayContaining(['t-chat-message--text', 'assistant', 'left']));
  expect(assistant.dom.innerHTML).not.toContain('t-chat-content');
  expect(assistant.querySelector('.t-chat-message__actionbar')).toBeTruthy();
});
