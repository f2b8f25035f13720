// SPDX-License-Identifier: MIT
// Stop / restart of a task, only when its `links` has them (the API adds a
// link only when the current user may do the action in the task's status).
// Both ask for a confirmation; restart first shows the dry run:
//   PUT <task links.self> {"dry_run": true, "downstream": bool}
//   -> 200 {"dry_run": true, "downstream": bool, "tasks": [task ids]}
// (the task itself first, then what is downstream of it): nothing changes
// until the user confirms with POST <links.restart> {"downstream": bool}.
import PropTypes from "prop-types";
import React, { useCallback, useEffect, useRef, useState } from "react";
import { Button, Checkbox, List, Message, Modal, Segment } from "semantic-ui-react";
import { i18next } from "@translations/invenio_workflow_records/i18next";
import { WorkflowsApi, errorMessage } from "../api";
import { StatusLabel } from "../components/StatusLabel";
import { useSubmit } from "../components/useSubmit";
import { taskName } from "../utils";

const StopModal = ({ task, onClose, onDone }) => {
  const {
    busy,
    error,
    submit: confirm,
  } = useSubmit(() => WorkflowsApi.action(task.links.stop), onDone);
  return (
    <Modal
      open
      size="small"
      className="task-stop-modal"
      onClose={() => !busy && onClose()}
    >
      <Modal.Header>
        {i18next.t("Stop task {{name}}", { name: taskName(task) })}
      </Modal.Header>
      <Modal.Content>
        <p>
          {i18next.t(
            "The task is stopped (revoked if a worker runs it) and the tasks that depend on it are skipped. It can be restarted later."
          )}
        </p>
        {!task.links?.stop && (
          <Message warning content={i18next.t("The task can no longer be stopped.")} />
        )}
        {error && <Message negative className="task-action-error" content={error} />}
      </Modal.Content>
      <Modal.Actions>
        <Button className="task-stop-cancel" disabled={busy} onClick={onClose}>
          {i18next.t("Cancel")}
        </Button>
        <Button
          className="task-stop-confirm"
          color="orange"
          icon="stop"
          content={i18next.t("Stop task")}
          loading={busy}
          disabled={busy || !task.links?.stop}
          onClick={confirm}
        />
      </Modal.Actions>
    </Modal>
  );
};

StopModal.propTypes = {
  task: PropTypes.object.isRequired,
  onClose: PropTypes.func.isRequired,
  onDone: PropTypes.func.isRequired,
};

const RestartModal = ({ task, tasksById, onClose, onDone }) => {
  const [downstream, setDownstream] = useState(true);
  const [preview, setPreview] = useState(null); // task ids of the dry run
  const [loading, setLoading] = useState(true);
  const [previewError, setPreviewError] = useState(null);
  const latest = useRef(0);

  // The dry run of the current toggle; a late answer of an older toggle is dropped.
  const runPreview = useCallback(
    async (down) => {
      latest.current += 1;
      const call = latest.current;
      setLoading(true);
      setPreviewError(null);
      try {
        const { data } = await WorkflowsApi.previewTaskRestart(task.links.self, down);
        if (call === latest.current) setPreview(data.tasks || []);
      } catch (e) {
        if (call === latest.current) {
          setPreview(null);
          setPreviewError(errorMessage(e));
        }
      } finally {
        if (call === latest.current) setLoading(false);
      }
    },
    [task.links.self]
  );

  useEffect(() => {
    runPreview(downstream);
    // Only the toggle re-runs the dry run, not each poll of the task.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [downstream]);

  useEffect(
    () => () => {
      latest.current += 1; // closed: ignore answers still on their way
    },
    []
  );

  const {
    busy,
    error,
    submit: confirm,
  } = useSubmit(() => WorkflowsApi.action(task.links.restart, { downstream }), onDone);

  return (
    <Modal
      open
      size="small"
      className="task-restart-modal"
      onClose={() => !busy && onClose()}
    >
      <Modal.Header>
        {i18next.t("Restart task {{name}}", { name: taskName(task) })}
      </Modal.Header>
      <Modal.Content>
        <Checkbox
          toggle
          className="task-restart-downstream"
          label={i18next.t("Also restart the tasks downstream of it")}
          checked={downstream}
          disabled={busy}
          onChange={(e, { checked }) => setDownstream(checked)}
        />
        <p style={{ marginTop: "1em" }}>
          {i18next.t(
            "These tasks will be reset and run again, with a new attempt; the workflow runs again until they are done:"
          )}{" "}
          {preview && !loading && (
            <strong className="task-restart-total">
              {i18next.t("Tasks: {{total}}", { total: preview.length })}
            </strong>
          )}
        </p>
        <Segment
          className="task-restart-preview"
          data-loading={loading ? "true" : "false"}
          loading={loading}
          style={{ maxHeight: "18em", overflowY: "auto", minHeight: "3em" }}
        >
          {previewError && <Message negative size="small" content={previewError} />}
          {preview && (
            <List divided relaxed="very" size="small">
              {preview.map((id) => {
                const t = tasksById.get(id);
                return (
                  <List.Item key={id} className="task-restart-preview-row">
                    <List.Content floated="right">
                      {t && <StatusLabel status={t.status} size="mini" />}
                    </List.Content>
                    <List.Content>
                      {/* Exactly the task's name: what the user (and the tests) read. */}
                      <span className="task-restart-preview-item" data-task-id={id}>
                        {t ? taskName(t) : id}
                      </span>{" "}
                      {t?.key && <small className="text-muted">{t.key}</small>}
                    </List.Content>
                  </List.Item>
                );
              })}
            </List>
          )}
        </Segment>
        {error && <Message negative className="task-action-error" content={error} />}
      </Modal.Content>
      <Modal.Actions>
        <Button className="task-restart-cancel" disabled={busy} onClick={onClose}>
          {i18next.t("Cancel")}
        </Button>
        <Button
          className="task-restart-confirm"
          primary
          icon="redo"
          content={i18next.t("Restart")}
          loading={busy}
          disabled={busy || loading || !preview || !task.links?.restart}
          onClick={confirm}
        />
      </Modal.Actions>
    </Modal>
  );
};

RestartModal.propTypes = {
  task: PropTypes.object.isRequired,
  tasksById: PropTypes.instanceOf(Map).isRequired,
  onClose: PropTypes.func.isRequired,
  onDone: PropTypes.func.isRequired,
};

export const TaskActions = ({ task, tasksById, onChanged }) => {
  const [open, setOpen] = useState(null);
  const links = task.links || {};
  if (!links.stop && !links.restart && !open) return null;
  const done = () => {
    setOpen(null);
    onChanged();
  };
  return (
    <div className="workflow-task-actions">
      {links.stop && (
        <Button
          size="small"
          color="orange"
          icon="stop"
          content={i18next.t("Stop task")}
          className="task-action-stop"
          onClick={() => setOpen("stop")}
        />
      )}
      {links.restart && (
        <Button
          size="small"
          icon="redo"
          content={i18next.t("Restart task…")}
          className="task-action-restart"
          onClick={() => setOpen("restart")}
        />
      )}
      {open === "stop" && (
        <StopModal task={task} onClose={() => setOpen(null)} onDone={done} />
      )}
      {open === "restart" && (
        <RestartModal
          task={task}
          tasksById={tasksById}
          onClose={() => setOpen(null)}
          onDone={done}
        />
      )}
    </div>
  );
};

TaskActions.propTypes = {
  task: PropTypes.object.isRequired,
  tasksById: PropTypes.instanceOf(Map).isRequired,
  onChanged: PropTypes.func.isRequired,
};
