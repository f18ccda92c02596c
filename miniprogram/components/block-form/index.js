/**
 * A form block (multi-step input): collects its fields, checks them by kind on the phone, and
 * emits "action" with the submit action whose params carry the values. Sent once; a new form
 * comes with the next answer if the server wants more.
 */
const blocks = require('../../services/chat/blocks');

Component({
  properties: {
    block: { type: Object, value: { fields: [], values: {}, submit: {} } },
  },
  data: { values: {}, labels: {}, errors: {}, sent: false },
  observers: {
    block(block) {
      const labels = {};
      (block.fields || []).forEach((f) => {
        const chosen = (f.options || []).find((o) => o.value === f.value);
        if (chosen) labels[f.name] = chosen.label;
      });
      this.setData({ values: Object.assign({}, block.values || {}), labels, errors: {}, sent: false });
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
      });
    },
  },
});
