/**
 * A map block with the built-in <map> (no map SDK): one marker per pin, the view fitted to all
 * pins, and a list below (tap a pin, its callout or its row: the pin's action goes to the server).
 * The block carries each pin once (services/chat/blocks); the markers and the points to fit are
 * built here, when the block changes.
 */
function markersOf(pins) {
  return pins.map((p) => ({
    id: p.id,
    latitude: p.latitude,
    longitude: p.longitude,
    title: p.title,
    width: 24,
    height: 32,
    callout: { content: p.subtitle ? `${p.title}\n${p.subtitle}` : p.title, display: 'BYCLICK', padding: 6 },
  }));
}

Component({
  properties: {
    block: { type: Object, value: { pins: [] } },
    height: { type: String, value: '400rpx' },
  },
  data: { markers: [], points: [] },
  observers: {
    block(block) {
      const pins = (block && block.pins) || [];
      this.setData({ markers: markersOf(pins), points: pins.map((p) => ({ latitude: p.latitude, longitude: p.longitude })) });
    },
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
