/**
 * The home screen: the conversation (W2). Logic lives in services/chat/conversation.js; this
 * page wires it to the screen: send, quick replies, actions (with their confirm question; those
 * the phone carries out itself, such as "review.image", never reach the server), forms, resends, scanning (W5), the offline banner (W6), and the input's text kept per account
 * as it is typed (a session that ends mid-chat comes back to it after the new login). A page
 * closed by a relaunch saves nothing over the page that replaced it (its claim on the history is
 * the older one: see utils/history).
 */
const { services } = require('../../services/index');
const { createConversation, textProblem } = require('../../services/chat/conversation');
const { createLocalActions, isLocal } = require('../../services/chat/local-actions');
const { view, screenPatch } = require('../../services/chat/view');
const { defaultNetwork } = require('../../utils/network');
const { guard, SCREENS } = require('../../utils/router');
const { toast, confirm } = require('../../utils/ui');
const { parseScan, pageFor, scanCode } = require('../../utils/scan');
const msg = require('../../utils/messages');

const DEFAULT_SUGGESTIONS = [
  { key: 'd0', label: '本单位汇总', text: '汇总' },
  { key: 'd1', label: '下级单位', text: '下级单位' },
  { key: 'd2', label: '帮助', text: '帮助' },
];

Page({
  data: {
    messages: [],
    suggestions: DEFAULT_SUGGESTIONS,
    draft: '',
    online: true,
    offlineBanner: msg.OFFLINE_BANNER,
    retryAll: '',
    greeting: '您好',
    presets: [{ name: 'send', type: 'icon' }],
  },

  onLoad() {
    if (!guard(SCREENS.chat)) return;
    const s = services();
    const network = defaultNetwork();
    this.network = network;
    this.owner = String((s.session.info() || {}).account_id || ''); // '': nobody's, nothing is saved
    this.conversation = createConversation({
      chatApi: s.chat,
      history: s.history,
      cache: s.cache,
      owner: () => String((s.session.info() || {}).account_id || ''),
      scope: () => s.session.scope(),
      onChange: () => this.render(),
      onRefused: (message) => this.onRefused(message),
      online: () => network.isOnline(), // offline, a message waits for the network (the banner says so)
    });
    this.local = createLocalActions({ client: s.client, network });
    const info = s.session.info() || {};
    this.setData({
      draft: s.history.draft(this.owner),
      online: network.isOnline(),
      greeting: info.name ? `${info.name}，您好${info.unit ? `（${info.unit.unit_name}）` : ''}` : '您好',
    });
    this.offNetwork = network.onChange((online) => {
      this.render({ online });
      if (online) this.conversation.resume();
    });
    this.conversation.load();
    s.auth.reloadSession().catch(() => {}); // keeps unit and flags current; a 401 sends us to login
  },

  /** The input is kept for this account: the app may be closed, or a 401 may send it to login. */
  onHide() {
    this.keepDraft(this.data.draft);
  },

  /**
   * The input's text, on screen and in storage at once: a relaunch may load the next chat page
   * before this one unloads, and that page must find it (an older page's writes are dropped).
   */
  keepDraft(text) {
    if (text !== this.data.draft) this.setData({ draft: text });
    if (this.owner && this.conversation) services().history.saveDraft(this.owner, text, this.conversation.writer());
  },

  onUnload() {
    if (this.offNetwork) this.offNetwork();
    this.onHide();
  },

  /**
   * The conversation on screen: only the messages that changed go to setData (services/chat/view
   * screenPatch); the list scrolls to the bottom for a new message or answer only, not for a
   * network change or a status. force: ids of messages to send again though unchanged.
   */
  render(extra, force) {
    const online = extra && 'online' in extra ? extra.online : this.network.isOnline();
    const suggestions = this.conversation.suggestions();
    const messages = this.conversation.messages();
    const failed = messages.filter((m) => m.status === 'failed').length;
    const step = screenPatch(this.shown || null, view(messages, Date.now(), online), force);
    this.shown = step.shown;
    this.setData(
      Object.assign({}, extra || {}, step.data, {
        online,
        suggestions: suggestions.length ? suggestions : DEFAULT_SUGGESTIONS,
        retryAll: failed > 1 ? msg.RETRY_ALL(failed) : '', // one alone has its own "点击重发"
      }),
      step.scroll ? () => this.scrollToBottom() : undefined
    );
  },

  scrollToBottom() {
    const list = this.selectComponent('#chatList');
    if (list && list.scrollToBottom) list.scrollToBottom();
  },

  onDraft(e) {
    this.keepDraft((e.detail && e.detail.value) || '');
  },

  onSend(e) {
    const text = ((e.detail && e.detail.value) || this.data.draft || '').trim();
    if (!text) return null;
    const problem = textProblem(text);
    if (problem) {
      this.keepDraft(text); // kept in the input to shorten
      toast(this, problem);
      return null;
    }
    const sent = this.conversation.sendText(text); // in the history before the input is emptied
    this.keepDraft('');
    return sent;
  },

  /** The server refused a message (resending cannot help): its text goes back to the input. */
  onRefused(message) {
    if (message.request.text === undefined || this.data.draft) return;
    this.keepDraft(message.request.text);
  },

  onReply(e) {
    const item = e.detail;
    if (item.action) return this.runAction(item.action, item.label);
    return this.conversation.sendText(item.text || item.label);
  },

  onAction(e) {
    return this.runAction(e.detail.action, e.detail.label, e.detail.form);
  },

  /**
   * Every tapped action (buttons, rows, pins, quick replies, forms) comes here. form: { messageId,
   * key, values } when a form block sends the action (kept on its message). A local action
   * (services/chat/local-actions) is carried out on the phone: no message, nothing to the server.
   */
  async runAction(action, label, form) {
    if (action.confirm && !(await confirm(this, action.confirm, action.label))) {
      if (form) this.render(undefined, [form.messageId]); // the form shows as not sent again
      return null;
    }
    if (isLocal(action)) {
      toast(this, await this.local.run(action));
      return null;
    }
    return this.conversation.sendAction(action, label || action.label, form);
  },

  onRetry(e) {
    return this.conversation.retry(e.currentTarget.dataset.id);
  },

  onRetryAll() {
    return this.conversation.retryAll();
  },

  /** A PC's enrolment or pairing code opens its page; any other code is sent as a message. */
  async onScan() {
    const raw = await scanCode();
    if (raw === null) return null;
    const scanned = parseScan(raw);
    if (scanned.kind === 'text') {
      if (!textProblem(scanned.text)) return this.conversation.sendText(scanned.text);
      toast(this, msg.SCAN_TOO_LONG);
      return null;
    }
    const page = pageFor(scanned);
    if (page) wx.navigateTo({ url: page });
    else toast(this, scanned.message);
    return null;
  },

  onMine() {
    wx.navigateTo({ url: '/packageAccount/pages/index/index' });
  },
});
