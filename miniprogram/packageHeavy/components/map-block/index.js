/**
 * A map block with the built-in <map> (no map SDK): one marker per pin, the view fitted to all
 * pins, and a list below (tap a pin, its callout or its row: the pin's action goes to the server).
 */
Component({
  properties: {
    block: { type: Object, value: { pins: [], markers: [], points: [] } },
    height: { type: String, value: '400rpx' },
  },
  methods: {
    emit(id) {
      const pin = this.data.block.pins.find((p) => p.id === Number(id));
      if (pin && pin.action) this.triggerEvent('action', { action: pin.action, label: pin.title });
    },
    onMarker(e) {
      this.emit(e.detail.markerId);
    },
    onPin(e) {
      this.emit(e.detail.markerId);
    },
    onPinRow(e) {
      this.emit(e.currentTarget.dataset.id);
    },
  },
});
