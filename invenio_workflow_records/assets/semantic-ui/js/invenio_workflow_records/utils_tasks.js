// SPDX-License-Identifier: MIT
/** Percentage of a task's `progress` ({current, total, message}), or null. */
export function progressPercent(progress) {
  if (!progress || !progress.total) return null;
  return Math.min(100, Math.round((100 * progress.current) / progress.total));
}
