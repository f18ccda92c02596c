/**
 * A form block (multi-step input): collects its fields, checks them by kind on the phone, and
 * emits "action" with the submit action whose params carry the values, and form: { key, values }
 * (the page keeps them on the message). Sent once; a new form comes with the next answer if the
 * server wants more.
 *
 * The chat passes its messages again on every change, which sets `block` again: what was typed
 * is reset only for another block (message id and block key); "sent" follows block.sent (kept
 * by the conversation, so a sent form stays sent, after a restart too). Standalone, a submitted
 * form stays sent.
 */
const blocks = require('../../services/chat/blocks');

Component({
  properties: {
    block: { type: Object, value: { fields: [], values: {}, submit: {} } },
    messageId: { type: String, value: '' },
  },
  data: { values: {}, labels: {}, errors: {}, sent: false },
  observers: {
    'block, messageId'(block, messageId) {
      const key = `${messageId}:${block.key}`;
      if (key === this.formKey) {
        if (!!block.sent !== this.data.sent) this.setData({ sent: !!block.sent }); // a cancelled confirm reopens it
        return;
      }
      this.formKey = key;
      const values = Object.assign({}, block.values || {});
      const labels = {};
      (block.fields || []).forEach((f) => {
        const chosen = (f.options || []).find((o) => o.value === values[f.name]);
        if (chosen) labels[f.name] = chosen.label;
      });
      this.setData({ values, labels, errors: {}, sent: !!block.sent });
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
      this.setData({ sent: true });
      this.triggerEvent('action', {
        action: Object.assign({}, this.data.block.submit, action),
        label: this.data.block.submit.label || this.data.block.title,
        form: { key: this.data.block.key, values: Object.assign({}, this.data.values) },
      });
    },
  },
});
