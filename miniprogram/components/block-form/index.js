/**
 * A form block: checks fields by kind, emits "action" once with the submit action (values in its
 * params) and form: { key, values }. A refused send reopens it (block.sent false) with what was
 * typed and the server's messages (block.errors, block.refusal), once per block.refused. `block`
 * comes again on every chat change: typing resets only for another block (message id, key,
 * submit: a cached form replaced by a changed card's). A select's picker opens on its value.
 */
const blocks = require('../../services/chat/blocks');

Component({
  properties: {
    block: { type: Object, value: { fields: [], values: {}, submit: {} } },
    messageId: { type: String, value: '' },
  },
  data: { values: {}, labels: {}, picks: {}, errors: {}, refusal: '', sent: false },
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
      const picks = {};
      (block.fields || []).forEach((f) => {
        const at = (f.options || []).findIndex((o) => o.value === values[f.name]);
        if (at >= 0) [labels[f.name], picks[f.name]] = [f.options[at].label, at];
      });
      const refused = !!block.refused && !block.sent; // after a restart too
      this.setData({
        values,
        labels,
        picks,
        errors: (refused && block.errors) || {},
        refusal: (refused && block.refusal) || '',
        sent: !!block.sent,
      });
    },
  },
  methods: {
    set(name, value, label, pick) {
      const patch = { [`values.${name}`]: value, [`errors.${name}`]: '' };
      if (label !== undefined) Object.assign(patch, { [`labels.${name}`]: label, [`picks.${name}`]: pick });
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
      if (option) this.set(name, option.value, option.label, Number(e.detail.value));
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
