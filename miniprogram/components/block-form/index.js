/**
 * A form block: checks its fields by kind and emits "action" once, with the submit action (the
 * values in its params) and form: { key, values } (kept on the message). A refused send opens it
 * again (block.sent false) with what was typed and the server's messages, once per refusal
 * (block.refused), under the fields (block.errors) or on the form (block.refusal).
 *
 * `block` is set again on every change of the chat: what was typed is reset only for another
 * block (message id, key, submit: a cached answer's form replaced by a fresh one of a changed
 * card). "sent" follows block.sent (kept by the conversation, after a restart too).
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
      const key = `${messageId}:${block.key}:${JSON.stringify(block.submit)}`;
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
