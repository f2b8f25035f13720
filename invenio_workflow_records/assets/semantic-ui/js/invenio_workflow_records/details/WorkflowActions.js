// SPDX-License-Identifier: MIT
// start / stop / restart / resume: a button for each action link the
// workflow has (the API adds a link only when the current user may do the
// action in the workflow's status). Each button opens a confirmation modal
// that says what will happen; start, restart and resume take optional params.
import PropTypes from "prop-types";
import React, { useState } from "react";
import { Button, Form, Message, Modal } from "semantic-ui-react";
import { i18next } from "@translations/invenio_workflow_records/i18next";
import { WorkflowsApi, validationErrors } from "../api";
import { toJson } from "../utils";

/*
 * The params each action sends, and why it is prefilled the way it is:
 * - start and resume overlay what is sent on the workflow's current params
 *   (server side), so the current params are a faithful starting point;
 * - restart does NOT overlay: it runs with the definition's default params
 *   overlaid by what is sent. Prefilling `{}` would silently drop the params
 *   of the current run (e.g. the file to process), so restart is prefilled
 *   with the current params too: "restart" means "the same again" unless
 *   the user edits them.
 */
const ACTIONS = {
  start: {
    icon: "play",
    color: "green",
    label: () => i18next.t("Start"),
    title: () => i18next.t("Start the workflow"),
    text: () =>
      i18next.t(
        "The workflow starts its first run: its first tasks are queued now, the others when their parents have succeeded."
      ),
    params: () =>
      i18next.t(
        "These params are laid over the workflow's params: keys you leave out keep their value."
      ),
  },
  resume: {
    icon: "forward",
    color: "blue",
    label: () => i18next.t("Resume"),
    title: () => i18next.t("Resume the workflow"),
    text: () =>
      i18next.t(
        "The tasks that did not succeed (failed, stopped or skipped) run again, in the same run; the tasks that succeeded keep their results."
      ),
    params: () =>
      i18next.t(
        "These params are laid over the run's params: keys you leave out keep their value."
      ),
  },
  restart: {
    icon: "redo",
    color: null,
    label: () => i18next.t("Restart"),
    title: () => i18next.t("Restart the workflow"),
    text: (wf) =>
      i18next.t(
        "Every task is reset and the whole workflow runs again as run {{run}}; the results of the current run are replaced.",
        { run: (wf.run ?? 0) + 1 }
      ),
    params: () =>
      i18next.t(
        "The new run uses the definition's default params overlaid with these (prefilled with the current run's params)."
      ),
  },
  stop: {
    icon: "stop",
    color: "orange",
    label: () => i18next.t("Stop"),
    title: () => i18next.t("Stop the workflow"),
    text: () =>
      i18next.t(
        "Running and queued tasks are stopped and the tasks waiting for them will not run. The workflow can be resumed or restarted later."
      ),
    params: null,
  },
};
const ORDER = ["start", "resume", "restart", "stop"];

/** The params textarea's errors (one line each), from the API's answer. */
function paramsFieldErrors(fields) {
  const messages = Object.entries(fields)
    .filter(([field]) => field === "params" || field.startsWith("params."))
    .flatMap(([field, msgs]) =>
      msgs.map((m) =>
        field === "params" ? m : `${field.slice("params.".length)}: ${m}`
      )
    );
  return messages.length ? messages : null;
}

/** Errors of fields other than params (e.g. `_schema`), for the general message. */
function otherErrors(fields) {
  return Object.entries(fields)
    .filter(([field]) => field !== "params" && !field.startsWith("params."))
    .map(([field, msgs]) =>
      field === "_schema" ? msgs.join(" ") : `${field}: ${msgs.join(" ")}`
    );
}

/** `{value}` of a JSON object typed by the user, or `{error}` (no request is sent). */
export function parseParams(text) {
  if (!text.trim()) return { value: {} };
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return {
        error: i18next.t('The params must be a JSON object, e.g. {"key": "value"}.'),
      };
    }
    return { value };
  } catch (e) {
    return { error: i18next.t("Invalid JSON: {{reason}}", { reason: e.message }) };
  }
}

const ActionModal = ({ action, workflow, onClose, onDone }) => {
  const spec = ACTIONS[action];
  const [text, setText] = useState(() => (spec.params ? toJson(workflow.params) : ""));
  const [fieldError, setFieldError] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const confirm = async () => {
    let payload = {};
    if (spec.params) {
      const parsed = parseParams(text);
      if (parsed.error) {
        setFieldError([parsed.error]);
        setError(null);
        return;
      }
      payload = { params: parsed.value };
    }
    setBusy(true);
    setFieldError(null);
    setError(null);
    try {
      const { data } = await WorkflowsApi.action(workflow.links[action], payload);
      setBusy(false);
      onDone(data);
    } catch (e) {
      const { message, fields } = validationErrors(e);
      const onParams = spec.params ? paramsFieldErrors(fields) : null;
      const others = spec.params ? otherErrors(fields) : Object.values(fields).flat();
      setFieldError(onParams);
      // The general message unless the params field already says it all.
      setError(onParams && !others.length ? null : [message, ...others].join(" "));
      setBusy(false);
    }
  };

  return (
    <Modal
      open
      size="small"
      className={`workflow-action-modal workflow-action-modal-${action}`}
      onClose={() => !busy && onClose()}
      closeOnDimmerClick={!busy}
    >
      <Modal.Header>{spec.title()}</Modal.Header>
      <Modal.Content>
        <p>
          <strong>{workflow.title || workflow.name}</strong>
        </p>
        <p>{spec.text(workflow)}</p>
        {spec.params && (
          <Form onSubmit={(e) => e.preventDefault()}>
            <Form.TextArea
              name="params"
              label={i18next.t("Params (JSON object, optional)")}
              value={text}
              rows={Math.min(12, Math.max(3, text.split("\n").length))}
              style={{ fontFamily: "monospace" }}
              onChange={(e, { value }) => {
                setText(value);
                if (fieldError) setFieldError(null);
              }}
              error={
                fieldError
                  ? {
                      content: fieldError.map((m) => <div key={m}>{m}</div>),
                      pointing: "above",
                      className: "workflow-action-field-error",
                    }
                  : undefined
              }
              disabled={busy}
            />
            <small className="text-muted">{spec.params()}</small>
          </Form>
        )}
        {!workflow.links?.[action] && (
          <Message
            warning
            className="workflow-action-error"
            content={i18next.t(
              "This action is no longer possible: the workflow changed meanwhile."
            )}
          />
        )}
        {error && (
          <Message negative className="workflow-action-error" content={error} />
        )}
      </Modal.Content>
      <Modal.Actions>
        <Button className="workflow-action-cancel" disabled={busy} onClick={onClose}>
          {i18next.t("Cancel")}
        </Button>
        <Button
          className="workflow-action-confirm"
          color={spec.color || "blue"}
          icon={spec.icon}
          content={spec.label()}
          loading={busy}
          disabled={busy || !workflow.links?.[action]}
          onClick={confirm}
        />
      </Modal.Actions>
    </Modal>
  );
};

ActionModal.propTypes = {
  action: PropTypes.oneOf(ORDER).isRequired,
  workflow: PropTypes.object.isRequired,
  onClose: PropTypes.func.isRequired,
  onDone: PropTypes.func.isRequired,
};

/**
 * The action buttons of a workflow. `onChanged(workflow)` is called after an
 * action succeeded, with the workflow the API answered.
 */
export const WorkflowActions = ({ workflow, onChanged, size, compact }) => {
  const [open, setOpen] = useState(null);
  const links = workflow.links || {};
  const available = ORDER.filter((name) => links[name]);
  if (!available.length && !open) return null;
  return (
    <div className="workflow-actions" style={{ display: "inline-block" }}>
      <Button.Group size={size} compact={compact}>
        {available.map((name) => (
          <Button
            key={name}
            type="button"
            className={`workflow-action-${name}`}
            icon={ACTIONS[name].icon}
            color={ACTIONS[name].color || undefined}
            content={ACTIONS[name].label()}
            onClick={() => setOpen(name)}
          />
        ))}
      </Button.Group>
      {open && (
        <ActionModal
          action={open}
          workflow={workflow}
          onClose={() => setOpen(null)}
          onDone={(data) => {
            setOpen(null);
            onChanged(data);
          }}
        />
      )}
    </div>
  );
};

WorkflowActions.propTypes = {
  workflow: PropTypes.object.isRequired,
  onChanged: PropTypes.func.isRequired,
  size: PropTypes.string,
  compact: PropTypes.bool,
};
WorkflowActions.defaultProps = { size: "small", compact: false };
