// SPDX-License-Identifier: MIT
import { DateTime } from "luxon";
import { i18next } from "@translations/invenio_workflow_records/i18next";

/** Colours of task and workflow statuses (graph nodes and labels). */
export const STATUS_COLORS = {
  created: "grey",
  pending: "grey",
  queued: "blue",
  running: "teal",
  retrying: "orange",
  succeeded: "green",
  failed: "red",
  stopped: "brown",
  skipped: "black",
};

/** The same colours as hex codes, for SVG fills (Semantic UI palette). */
export const STATUS_FILLS = {
  created: "#e8e8e8",
  pending: "#e8e8e8",
  queued: "#c9e2f5",
  running: "#b5f0ec",
  retrying: "#fcd9b6",
  succeeded: "#b7e4c0",
  failed: "#f5b5b5",
  stopped: "#dcc6b0",
  skipped: "#d4d4d5",
};

/** Task statuses in which a task still has something to do. */
export const ACTIVE_STATUSES = ["pending", "queued", "running", "retrying"];

/** Whether the dashboards should keep refreshing a workflow in this status. */
export const isLiveStatus = (status) => status === "running";

/** "1 h 2 min", "3.4 s" from seconds (the API's `duration`). */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "−";
  if (seconds < 60) return `${Number(seconds).toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * The duration of a record (workflow or task): its `duration`, else the time
 * since `started_at` while it has not finished (null when it never started).
 */
export function durationOf(record) {
  if (!record) return null;
  if (record.duration !== null && record.duration !== undefined) return record.duration;
  if (!record.started_at || record.finished_at) return null;
  const started = DateTime.fromISO(record.started_at);
  return Math.max(0, DateTime.now().diff(started, "seconds").seconds);
}

export function formatDate(iso, locale) {
  if (!iso) return "−";
  return DateTime.fromISO(iso)
    .setLocale(locale || "en")
    .toLocaleString(DateTime.DATETIME_SHORT_WITH_SECONDS);
}

/** Only the time for today's dates (tables), the date and time otherwise. */
export function formatDateCompact(iso, locale) {
  if (!iso) return "−";
  const date = DateTime.fromISO(iso).setLocale(locale || "en");
  const today = date.hasSame(DateTime.now(), "day");
  return date.toLocaleString(
    today ? DateTime.TIME_WITH_SECONDS : DateTime.DATETIME_SHORT_WITH_SECONDS
  );
}

export function relativeDate(iso, locale) {
  if (!iso) return "−";
  return DateTime.fromISO(iso)
    .setLocale(locale || "en")
    .toRelative();
}

export function subjectText(subject) {
  return subject ? `${subject.type}:${subject.id}` : "−";
}

/** Who did something ("by …"), from an `actor` value of the API. */
export function actorText(actor) {
  if (!actor) return null;
  if (actor.system) return i18next.t("the system");
  if (actor.anonymous) return i18next.t("an anonymous user");
  if (actor.user !== undefined) return i18next.t("user {{id}}", { id: actor.user });
  return null;
}

/** An `owner` (or `actor`) value on its own: "System", "User 1". */
export function ownerText(owner) {
  if (!owner) return null;
  if (owner.system) return i18next.t("System");
  if (owner.anonymous) return i18next.t("Anonymous");
  if (owner.user !== undefined) return i18next.t("User {{id}}", { id: owner.user });
  return null;
}

/** The name a task is shown with. */
export const taskName = (task) => (task ? task.short_name || task.name || task.id : "");

/** `{id: task}` of a list of tasks (built once, not searched in loops). */
export function indexById(tasks) {
  const byId = new Map();
  tasks.forEach((t) => byId.set(t.id, t));
  return byId;
}

/** Readable JSON of a value (params, results). */
export const toJson = (value) => JSON.stringify(value ?? {}, null, 2);
