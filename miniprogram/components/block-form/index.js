/**
 * A form block (multi-step input): collects its fields, checks them by kind on the phone, and
 * emits "action" with the submit action whose params carry the values, and form: { key, values }
 * (the page keeps them on the message). Sent once; a new form comes with the next answer if the
 * server wants more. A send the server refuses opens the form again (block.sent false) with what
 * was typed, the server's messages under the fields (block.errors) or on the form (block.refusal).
 *
 * The chat passes its messages again on every change, which sets `block` again: what was typed
 * is reset only for another block (message id and block key); "sent" follows block.sent (kept
 * by the conversation, so a sent form stays sent, after a restart too), and the server's messages
 * are shown once per refused send (block.refused). Standalone, a submitted form stays sent.
 */
const blocks = require('../../services/chat/blocks');

Component({
  properties: {
    block: { type: Object, value: { fields: [], values: {}, submit: {} } },
    messageId: { type: String, value: '' },
  },
  data: { values: {}, labels: {}, errors: {}, refusal: '', sent: false },
  observers: {
    'block, messageId'(block, messageId) {
      const key = `${messageId}:${block.key}`;
      if (key === this.formKey) {
        const patch = {};
        if (!!block.sent !== this.data.sent) patch.sent = !!block.sent; // a cancelled confirm or a refusal reopens it
        if (block.refused && block.refused !== this.refused) {
          this.refused = block.refused;
          Object.assign(patch, { errors: block.errors || {}, refusal: block.refusal || '' });
        }
        if (Object.keys(patch).length) this.setData(patch);
        return;
      }
      this.formKey = key;
      this.refused = block.refused;
      const values = Object.assign({}, block.values || {});
      const labels = {};
      (block.fields || []).forEach((f) => {
        const chosen = (f.options || []).find((o) => o.value === values[f.name]);
        if (chosen) labels[f.name] = chosen.label;
      });
      const refused = !!block.refused && !block.sent; // after a restart too
      this.setData({
        values,
        labels,
        errors: (refused && block.errors) || {},
        refusal: (refused && block.refusal) || '',
        sent: !!block.sent,
      });
    },
  },
  methods: {
    set(name, value, label) {
      const patch = { [`values.${name}`]: value, [`errors.${name}`]: '' };
      if (label !== undefined) patch[`labels.${name}`] = label;
      this.setData(patch);
    },
    onInput(e) {
      this.set(e.currentTarget.dataset.name, (e.detail && e.detail.value) || '');
    },
    onDate(e) {
      this.set(e.currentTarget.dataset.name, e.detail.value);
    },
    onPick(e) {
      const name = e.currentTarget.dataset.name;
      const field = this.data.block.fields.find((f) => f.name === name);
      const option = field && field.options[Number(e.detail.value)];
      if (option) this.set(name, option.value, option.label);
    },
    onSubmit() {
      if (this.data.sent) return;
      const errors = blocks.formErrors(this.data.block, this.data.values);
      if (Object.keys(errors).length) {
        this.setData({ errors });
        return;
      }
      const action = blocks.formAction(this.data.block, this.data.values);
      this.setData({ sent: true, errors: {}, refusal: '' });
      this.triggerEvent('action', {
        action: Object.assign({}, this.data.block.submit, action),
        label: this.data.block.submit.label || this.data.block.title,
        form: { key: this.data.block.key, values: Object.assign({}, this.data.values) },
      });
    },
  },
});
