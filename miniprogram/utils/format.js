/** Display formats. */
function pad(n) {
  return String(n).padStart(2, '0');
}

/** "11-22 20:35" for today's year, "2025-11-22 20:35" otherwise (local time). */
function formatTime(ms, nowMs) {
  if (!ms) return '';
  const d = new Date(ms);
  const now = new Date(nowMs || Date.now());
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const md = `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return d.getFullYear() === now.getFullYear() ? `${md} ${hm}` : `${d.getFullYear()}-${md} ${hm}`;
}

/** "离线 · 上次结果 11-22 20:35" */
function offlineLabel(ms, nowMs) {
  return `离线 · 上次结果 ${formatTime(ms, nowMs)}`;
}

/** Numbers for chart labels: 12345 -> "12,345", 1.5 -> "1.5". */
function formatNumber(value) {
  if (typeof value !== 'number' || !isFinite(value)) return '';
  const rounded = Math.round(value * 100) / 100;
  const [int, frac] = String(Math.abs(rounded)).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${rounded < 0 ? '-' : ''}${grouped}${frac ? `.${frac}` : ''}`;
}

module.exports = { formatTime, offlineLabel, formatNumber };
