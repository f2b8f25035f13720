// SPDX-License-Identifier: MIT
// REST calls of the dashboards. `http` (react-invenio-forms) is Invenio's
// axios instance: it sends the CSRF token (X-CSRFToken from the csrftoken
// cookie) that the REST API requires for session-authenticated writes.
import { http } from "react-invenio-forms";

const JSON_HEADERS = { Accept: "application/json" };

export const WorkflowsApi = {
  read: (url) => http.get(url, { headers: JSON_HEADERS }),
  tasks: (url, page = 1, size = 100) =>
    http.get(url, { headers: JSON_HEADERS, params: { page, size } }),
  revisions: (url, page = 1, size = 25) =>
    http.get(url, { headers: JSON_HEADERS, params: { page, size } }),
  search: (url, params) => http.get(url, { headers: JSON_HEADERS, params }),
  // Action links (POST .../actions/<action>) come from the item's `links`:
  // the client never builds them, so a hidden action cannot be called.
  // Workflow actions answer the workflow (202); a task restart answers
  // {"dry_run", "downstream", "tasks": [ids]}, a task stop the task.
  action: (url, payload = {}) => http.post(url, payload, { headers: JSON_HEADERS }),
  // Dry run of a task restart: PUT <task links.self> {"dry_run": true,
  // "downstream": bool} answers 200 {"dry_run", "downstream", "tasks": [the
  // ids of the tasks that would be reset, the task first]}; nothing changes.
  previewTaskRestart: (taskUrl, downstream) =>
    http.put(taskUrl, { dry_run: true, downstream }, { headers: JSON_HEADERS }),
};

/**
 * Every task of a workflow, in plan order: the first page tells the total,
 * the other pages are then fetched in parallel.
 */
export async function fetchAllTasks(url, size = 100) {
  const { data } = await WorkflowsApi.tasks(url, 1, size);
  const total = data.hits.total;
  const pages = Math.ceil(total / size);
  if (pages <= 1) return data.hits.hits;
  const rest = await Promise.all(
    Array.from({ length: pages - 1 }, (_, i) => WorkflowsApi.tasks(url, i + 2, size))
  );
  return rest.reduce(
    (hits, { data: page }) => hits.concat(page.hits.hits),
    data.hits.hits
  );
}

/** A readable message from an axios error and the API's JSON error. */
export function errorMessage(error) {
  const data = error?.response?.data;
  if (data?.message) return data.message;
  return error?.message || String(error);
}

/** The HTTP status of an axios error (undefined without an answer). */
export const errorStatus = (error) => error?.response?.status;

/**
 * The API's validation errors: `{message, fields: {field: [messages]}}` from
 * `{"status": 400, "message", "errors": [{"field", "messages"}]}`.
 */
export function validationErrors(error) {
  const data = error?.response?.data || {};
  const fields = {};
  (Array.isArray(data.errors) ? data.errors : []).forEach((e) => {
    const messages = Array.isArray(e.messages) ? e.messages : [String(e.messages)];
    const field = e.field || "_schema";
    fields[field] = (fields[field] || []).concat(messages);
  });
  return { message: errorMessage(error), fields };
}
