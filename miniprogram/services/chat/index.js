/** POST /api/chat: text or a tapped action in, a normalised reply out. */
const endpoints = require('../endpoints');
const blocks = require('./blocks');

function createChatApi(client) {
  return {
    /** request: { text } or { action: { intent, params } }; idempotencyKey for a resend. */
    async send(request, idempotencyKey) {
      const body = request.text !== undefined ? { text: request.text } : { action: request.action };
      const raw = await client.post(endpoints.chat, body, { idempotencyKey });
      return blocks.reply(raw);
    },
  };
}

module.exports = { createChatApi };
