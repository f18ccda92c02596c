/**
 * Block normalisation: the server's chat answer (backend/chat/protocol.py) into what the
 * components render. Everything is checked and given a stable key; a block that is not
 * understood becomes a short "needs a newer version" text, never a broken screen.
 *
 * The block types: text, card, table, chart, map, form, qr, notice.
 */
const msg = require('../../utils/messages');
const { formatNumber } = require('../../utils/format');
const { isPhone, isIdNumber, isNumber, numberText, cleanText } = require('../../utils/validate');

const MAX_ROWS = 100;
const MAX_PINS = 200;
const STYLES = ['primary', 'default', 'danger'];
const LEVELS = ['info', 'success', 'warning', 'error'];
const LANDLINE = /^0[1-9]\d{1,2}-?[1-9]\d{6,7}(-\d{1,6})?$/; // a contact phone can be (identifiers.py)
const FIELD_KINDS = ['text', 'number', 'phone', 'id_number', 'date', 'select', 'textarea'];

function str(value) {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : String(value);
}

function isObject(value) {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

/** An Action: { label, intent, params, style, confirm } or null when unusable. */
function action(raw) {
  if (!isObject(raw) || !raw.intent) return null;
  const style = STYLES.indexOf(raw.style) >= 0 ? raw.style : 'default';
  return {
    label: str(raw.label) || str(raw.intent),
    intent: str(raw.intent),
    params: isObject(raw.params) ? raw.params : {},
    style,
    theme: style === 'primary' ? 'primary' : style === 'danger' ? 'danger' : 'default',
    confirm: raw.confirm ? str(raw.confirm) : '',
  };
}

function actions(list) {
  return (Array.isArray(list) ? list : []).map(action).filter(Boolean);
}

function text(raw) {
  const body = str(raw.text);
  return { type: 'text', text: body, content: { type: 'text', data: body } };
}

function card(raw) {
  return {
    type: 'card',
    title: str(raw.title),
    subtitle: str(raw.subtitle),
    fields: (Array.isArray(raw.fields) ? raw.fields : [])
      .filter(isObject)
      .map((f) => ({ label: str(f.label), value: str(f.value) })),
    actions: actions(raw.actions).map((a, i) => Object.assign(a, { key: `a${i}` })), // unique, unlike intents
  };
}

/**
 * A row's action, sent with a label that names the row: a generic label such as "信息卡" becomes
 * "信息卡：王家湾村茶叶合作社" (the first cell), one that already names it stays.
 */
function rowAction(raw, first) {
  const act = action(raw);
  if (!act || !first || act.label.indexOf(first) >= 0) return act;
  return Object.assign(act, { label: msg.LABELLED(act.label, first) });
}

function table(raw) {
  const columns = (Array.isArray(raw.columns) ? raw.columns : []).map((title, i) => ({
    colKey: `c${i}`,
    title: str(title),
    ellipsis: true,
  }));
  const rowActions = Array.isArray(raw.row_actions) ? raw.row_actions : [];
  const rows = (Array.isArray(raw.rows) ? raw.rows : [])
    .filter(Array.isArray)
    .slice(0, MAX_ROWS)
    .map((cells, r) => {
      const row = { key: `r${r}`, index: r, action: rowAction(rowActions[r], str(cells[0]).trim()) };
      columns.forEach((col, i) => {
        row[col.colKey] = str(cells[i]);
      });
      return row;
    });
  const total = typeof raw.total === 'number' ? raw.total : null;
  return {
    type: 'table',
    title: str(raw.title),
    columns,
    rows,
    total,
    summary: total === null ? `${rows.length} 条` : `共 ${total} 条`,
    more: action(raw.more),
    tappable: rows.some((row) => !!row.action),
  };
}

/** A small bar chart: one bar per label of the first series, widths in percent of the largest. */
function chart(raw) {
  const labels = (Array.isArray(raw.labels) ? raw.labels : []).map(str);
  const series = (Array.isArray(raw.series) ? raw.series : []).filter(isObject).map((s) => ({
    name: str(s.name),
    values: (Array.isArray(s.values) ? s.values : []).map((v) => (typeof v === 'number' && isFinite(v) ? v : 0)),
  }));
  const unit = str(raw.unit);
  const kind = ['bar', 'line', 'pie'].indexOf(raw.kind) >= 0 ? raw.kind : 'bar';
  const groups = series.map((s) => {
    const max = Math.max(0, ...s.values.map((v) => Math.abs(v)));
    const sum = s.values.reduce((a, v) => a + Math.max(v, 0), 0);
    return {
      name: s.name,
      bars: labels.map((label, i) => {
        const value = s.values[i] || 0;
        const share = kind === 'pie' && sum > 0 ? ` (${Math.round((Math.max(value, 0) / sum) * 100)}%)` : '';
        return {
          key: `b${i}`,
          label,
          value,
          display: `${formatNumber(value)}${unit}${share}`,
          percent: max > 0 && value !== 0 ? Math.max(2, Math.round((Math.abs(value) / max) * 100)) : 0,
        };
      }),
    };
  });
  return { type: 'chart', title: str(raw.title), kind, unit, labels, groups };
}

function map(raw) {
  const pins = (Array.isArray(raw.pins) ? raw.pins : [])
    .filter((p) => isObject(p) && isFinite(Number(p.latitude)) && isFinite(Number(p.longitude)))
    .slice(0, MAX_PINS)
    .map((p, i) => ({
      id: i,
      latitude: Number(p.latitude),
      longitude: Number(p.longitude),
      title: str(p.title),
      subtitle: str(p.subtitle),
      action: action(p.action),
    }));
  const center = pins.length
    ? {
        latitude: pins.reduce((a, p) => a + p.latitude, 0) / pins.length,
        longitude: pins.reduce((a, p) => a + p.longitude, 0) / pins.length,
      }
    : { latitude: 0, longitude: 0 };
  // each pin once: the map component builds the <map>'s markers and points from them (setData, history)
  return { type: 'map', title: str(raw.title), pins, latitude: center.latitude, longitude: center.longitude };
}

function formField(raw) {
  const kind = FIELD_KINDS.indexOf(raw.kind) >= 0 ? raw.kind : 'text';
  const options = (Array.isArray(raw.options) ? raw.options : [])
    .filter(isObject)
    .map((o) => ({ label: str(o.label), value: str(o.value) }));
  return {
    name: str(raw.name),
    label: str(raw.label),
    kind,
    required: raw.required !== false,
    options,
    optionLabels: options.map((o) => o.label),
    value: raw.value === undefined || raw.value === null ? '' : str(raw.value),
    landline: raw.landline === true,
    inputType: kind === 'number' ? 'digit' : kind === 'phone' ? 'number' : kind === 'id_number' ? 'idcard' : 'text',
  };
}

function form(raw) {
  const fields = (Array.isArray(raw.fields) ? raw.fields : []).filter((f) => isObject(f) && f.name).map(formField);
  const values = {};
  fields.forEach((f) => {
    values[f.name] = f.value;
  });
  return { type: 'form', title: str(raw.title), fields, values, submit: action(raw.submit) };
}

function qr(raw) {
  const image = str(raw.image);
  return {
    type: 'qr',
    title: str(raw.title),
    payload: str(raw.payload),
    image: /^data:image\/(png|jpeg|gif);base64,/.test(image) ? image : '',
  };
}

function notice(raw) {
  const level = LEVELS.indexOf(raw.level) >= 0 ? raw.level : 'info';
  return { type: 'notice', level, text: str(raw.text) };
}

const BUILDERS = { text, card, table, chart, map, form, qr, notice };

function block(raw, index) {
  const build = isObject(raw) && BUILDERS[raw.type];
  const out = build ? build(raw) : { type: 'unsupported', text: msg.UNSUPPORTED_BLOCK };
  if (out.type === 'form' && !out.submit) return Object.assign({ key: `k${index}` }, notice({ text: out.title }));
  return Object.assign({ key: `k${index}` }, out);
}

function suggestion(raw, index) {
  if (!isObject(raw) || !raw.label) return null;
  const act = action(raw.action);
  const sent = str(raw.text);
  if (!act && !sent) return null;
  return { key: `s${index}`, label: str(raw.label), text: sent, action: act };
}

/** The whole ChatReply. */
function reply(raw) {
  if (!isObject(raw) || !Array.isArray(raw.blocks)) {
    return { blocks: [block({ type: 'notice', level: 'error', text: msg.BAD_ANSWER }, 0)], suggestions: [], context: '' };
  }
  return {
    blocks: raw.blocks.map(block),
    suggestions: (Array.isArray(raw.suggestions) ? raw.suggestions : []).map(suggestion).filter(Boolean),
    context: str(raw.context),
  };
}

/** Form input checks by field kind: { name: message } (empty when the values can be sent). */
function formErrors(formBlock, values) {
  const errors = {};
  formBlock.fields.forEach((f) => {
    const value = cleanText(str(values[f.name]));
    if (!value) {
      if (f.required) errors[f.name] = `${msg.REQUIRED}${f.label}`;
      return;
    }
    if (f.kind === 'phone' && !isPhone(value) && !(f.landline && LANDLINE.test(value))) {
      errors[f.name] = f.landline ? msg.BAD_CONTACT_PHONE : msg.BAD_PHONE;
    }
    if (f.kind === 'id_number' && !isIdNumber(value)) errors[f.name] = msg.BAD_ID_NUMBER;
    if (f.kind === 'number' && !isNumber(value)) errors[f.name] = msg.BAD_NUMBER;
    if (f.kind === 'date' && !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(value)) errors[f.name] = msg.BAD_DATE;
  });
  return errors;
}

/**
 * The action a form submits: its submit action with the form's values merged into the params
 * (pasted control characters as spaces: the server refuses them).
 */
function formAction(formBlock, values) {
  const params = Object.assign({}, formBlock.submit.params);
  formBlock.fields.forEach((f) => {
    const value = cleanText(str(values[f.name]));
    if (value === '') return;
    if (f.kind === 'id_number') params[f.name] = value.toUpperCase();
    else params[f.name] = f.kind === 'number' ? numberText(value) : value;
  });
  return { intent: formBlock.submit.intent, params };
}

/**
 * What a refused form shows: the server's field messages under the form's fields (the server may
 * name a field "phone" or "action.params.phone"), or, when none is the form's, its message.
 */
function formRefusal(formBlock, error) {
  const fields = (error && error.fields) || {};
  const errors = {};
  formBlock.fields.forEach((f) => {
    const name = Object.keys(fields).find((k) => k === f.name || k.endsWith(`.${f.name}`));
    if (name) errors[f.name] = str(fields[name]);
  });
  return { errors, message: Object.keys(errors).length ? '' : str(error && error.message) || msg.SERVER };
}

module.exports = { reply, block, action, suggestion, formErrors, formAction, formRefusal };
