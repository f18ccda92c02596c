/**
 * A chart block as horizontal bars drawn with views (no chart library): one row per label, the
 * bar's width in percent of the largest value, the value (and for a pie its share) beside it.
 */
Component({
  properties: {
    block: { type: Object, value: { groups: [] } },
  },
});
