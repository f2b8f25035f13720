// SPDX-License-Identifier: MIT
// The selected task: status, progress, error (type, message, traceback),
// result preview, details, its revision history, and the stop/restart
// actions its `links` offer.
import PropTypes from "prop-types";
import React, { useState } from "react";
import {
  Button,
  Header,
  Label,
  Message,
  Progress,
  Segment,
  Tab,
  Table,
} from "semantic-ui-react";
import { i18next } from "@translations/invenio_workflow_records/i18next";
import { StatusLabel } from "../components/StatusLabel";
import { useRevisions } from "../components/useRevisions";
import {
  actorText,
  durationOf,
  formatDate,
  formatDuration,
  relativeDate,
  taskName,
} from "../utils";
import { progressPercent } from "../utils_tasks";
import { TaskActions } from "./TaskActions";

/** Results above this many characters are cut, with a button to show all. */
const PREVIEW_CHARS = 4000;

const Json = ({ value, className }) => {
  const [full, setFull] = useState(false);
  const text = JSON.stringify(value, null, 2) ?? "";
  const cut = !full && text.length > PREVIEW_CHARS;
  return (
    <>
      <pre
        className={`workflow-json ${className}`}
        style={{
          maxHeight: "24em",
          overflow: "auto",
          whiteSpace: "pre-wrap",
          wordBreak: "break-all",
          margin: 0,
        }}
      >
        {cut ? `${text.slice(0, PREVIEW_CHARS)}\n…` : text}
      </pre>
      {cut && (
        <Button
          basic
          size="mini"
          type="button"
          content={i18next.t("Show all ({{size}} characters)", { size: text.length })}
          onClick={() => setFull(true)}
        />
      )}
    </>
  );
};
Json.propTypes = { value: PropTypes.any, className: PropTypes.string };
Json.defaultProps = { value: null, className: "" };

/** What a revision of a task says besides its status. */
function revisionNote(r) {
  const parts = [];
  if (r.error?.type) parts.push(`${r.error.type}: ${r.error.message || ""}`);
  else if (r.message) parts.push(r.message);
  if (r.progress?.total) parts.push(`${r.progress.current}/${r.progress.total}`);
  const actor = actorText(r.actor);
  if (actor) parts.push(i18next.t("by {{actor}}", { actor }));
  return parts.join(" · ");
}

/** The task's revisions (GET links.revisions), newest first; reloaded on a new revision. */
const Revisions = ({ url, revisionId }) => {
  const [size, setSize] = useState(25);
  const { hits: revisions, total, error } = useRevisions(url, revisionId, size);
  if (error) return <Message negative content={error} />;
  if (!revisions) return <Segment loading basic />;
  return (
    <>
      <Table
        compact="very"
        basic="very"
        unstackable
        size="small"
        className="task-revisions"
      >
        <Table.Header>
          <Table.Row>
            <Table.HeaderCell>#</Table.HeaderCell>
            <Table.HeaderCell>{i18next.t("When")}</Table.HeaderCell>
            <Table.HeaderCell>{i18next.t("Status")}</Table.HeaderCell>
            <Table.HeaderCell>{i18next.t("Run")}</Table.HeaderCell>
            <Table.HeaderCell>{i18next.t("Attempt")}</Table.HeaderCell>
            <Table.HeaderCell>{i18next.t("Worker")}</Table.HeaderCell>
            <Table.HeaderCell>{i18next.t("Note")}</Table.HeaderCell>
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {revisions.map((r) => (
            <Table.Row
              key={r.revision_id}
              className="task-revision-item"
              data-revision-id={r.revision_id}
            >
              <Table.Cell>{r.revision_id}</Table.Cell>
              <Table.Cell title={relativeDate(r.updated, i18next.language)}>
                {formatDate(r.updated, i18next.language)}
              </Table.Cell>
              <Table.Cell>
                <StatusLabel status={r.status} size="mini" live={false} />
              </Table.Cell>
              <Table.Cell>{r.run ?? "−"}</Table.Cell>
              <Table.Cell>{r.attempt ?? "−"}</Table.Cell>
              <Table.Cell className="word-break-all">{r.worker || "−"}</Table.Cell>
              <Table.Cell>{revisionNote(r)}</Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table>
      {total > revisions.length && (
        <Button
          basic
          size="mini"
          type="button"
          content={i18next.t("Show older revisions")}
          onClick={() => setSize((s) => Math.min(1000, s * 4))}
        />
      )}
    </>
  );
};
Revisions.propTypes = {
  url: PropTypes.string.isRequired,
  revisionId: PropTypes.number,
};
Revisions.defaultProps = { revisionId: null };

const Row = ({ label, children }) => (
  <Table.Row>
    <Table.Cell collapsing>{label}</Table.Cell>
    <Table.Cell>{children}</Table.Cell>
  </Table.Row>
);
Row.propTypes = { label: PropTypes.string.isRequired, children: PropTypes.node };
Row.defaultProps = { children: null };

export const TaskPanel = ({ task, tasksById, onChanged, onClose }) => {
  const percent = progressPercent(task.progress);
  const parents = (task.parents || []).map((id) => taskName(tasksById.get(id)) || id);
  const hasResult = task.result !== undefined && task.result !== null;
  const panes = [
    {
      menuItem: {
        key: "result",
        content: i18next.t("Result"),
        className: "workflow-task-tab-result",
      },
      render: () => (
        <Tab.Pane className="workflow-task-result">
          {hasResult ? (
            <Json value={task.result} />
          ) : (
            <em>{i18next.t("No result.")}</em>
          )}
        </Tab.Pane>
      ),
    },
    {
      menuItem: {
        key: "details",
        content: i18next.t("Details"),
        className: "workflow-task-tab-details",
      },
      render: () => (
        <Tab.Pane>
          <Table definition compact="very" unstackable size="small">
            <Table.Body>
              <Row label={i18next.t("Name")}>
                <code>{task.name}</code>
              </Row>
              <Row label={i18next.t("Key")}>{task.key || "−"}</Row>
              <Row label={i18next.t("Depends on")}>
                {parents.length ? parents.join(", ") : "−"}
              </Row>
              <Row label={i18next.t("Run / attempt")}>
                {`${task.run ?? 0} / ${task.attempt ?? 0}`}
                {task.retries
                  ? ` · ${i18next.t("Retries: {{retries}}", { retries: task.retries })}`
                  : ""}
              </Row>
              <Row label={i18next.t("Worker")}>{task.worker || "−"}</Row>
              <Row label={i18next.t("Queued")}>
                {formatDate(task.queued_at, i18next.language)}
              </Row>
              <Row label={i18next.t("Started")}>
                {formatDate(task.started_at, i18next.language)}
              </Row>
              <Row label={i18next.t("Finished")}>
                {formatDate(task.finished_at, i18next.language)}
              </Row>
              <Row label={i18next.t("Duration")}>
                {formatDuration(durationOf(task))}
              </Row>
              <Row label={i18next.t("Celery id")}>
                <code>{task.celery_id || "−"}</code>
              </Row>
              <Row label={i18next.t("Arguments")}>
                <Json value={{ args: task.args || [], kwargs: task.kwargs || {} }} />
              </Row>
              {task.overrides && Object.keys(task.overrides).length > 0 && (
                <Row label={i18next.t("Params of the restart")}>
                  <Json value={task.overrides} />
                </Row>
              )}
              {(task.lost > 0 || task.resends > 0) && (
                <Row label={i18next.t("Lost / resent")}>
                  {`${task.lost || 0} / ${task.resends || 0}`}
                </Row>
              )}
              {actorText(task.actor) && (
                <Row label={i18next.t("Last action by")}>{actorText(task.actor)}</Row>
              )}
            </Table.Body>
          </Table>
        </Tab.Pane>
      ),
    },
    {
      menuItem: {
        key: "revisions",
        content: i18next.t("History"),
        className: "workflow-task-tab-revisions",
      },
      render: () => (
        <Tab.Pane>
          {task.links?.revisions && (
            <Revisions url={task.links.revisions} revisionId={task.revision_id} />
          )}
        </Tab.Pane>
      ),
    },
  ];
  return (
    <Segment
      className="workflow-task-panel"
      data-task-id={task.id}
      data-status={task.status}
    >
      <Button
        basic
        icon="close"
        size="mini"
        floated="right"
        type="button"
        className="workflow-task-panel-close"
        title={i18next.t("Close")}
        aria-label={i18next.t("Close")}
        onClick={onClose}
      />
      <Header as="h3" style={{ marginTop: 0 }}>
        {taskName(task)} <StatusLabel status={task.status} />
        {task.attempt > 1 && (
          <Label basic size="small">
            {i18next.t("Attempt {{attempt}}", { attempt: task.attempt })}
          </Label>
        )}
        <Header.Subheader>
          <code>{task.name}</code> · {formatDuration(durationOf(task))}
        </Header.Subheader>
      </Header>
      {task.error ? (
        <Message negative className="workflow-task-error">
          <Message.Header>
            <span className="workflow-task-error-type">
              {task.error.type || i18next.t("Error")}
            </span>
            {task.error.message ? `: ${task.error.message}` : ""}
          </Message.Header>
          {task.error.traceback && (
            <pre
              className="workflow-task-traceback"
              style={{
                whiteSpace: "pre-wrap",
                maxHeight: "20em",
                overflow: "auto",
                fontSize: "0.85em",
              }}
            >
              {task.error.traceback}
            </pre>
          )}
        </Message>
      ) : (
        task.message && <p className="workflow-task-message">{task.message}</p>
      )}
      {percent !== null && (
        <Progress
          percent={percent}
          progress
          size="small"
          color="teal"
          className="workflow-task-progress"
          label={`${task.progress.current}/${task.progress.total}${
            task.progress.message ? ` · ${task.progress.message}` : ""
          }`}
        />
      )}
      <TaskActions task={task} tasksById={tasksById} onChanged={onChanged} />
      <Tab
        panes={panes}
        menu={{ secondary: true, pointing: true }}
        style={{ marginTop: "1em" }}
      />
    </Segment>
  );
};

TaskPanel.propTypes = {
  task: PropTypes.object.isRequired,
  tasksById: PropTypes.instanceOf(Map).isRequired,
  onChanged: PropTypes.func.isRequired,
  onClose: PropTypes.func.isRequired,
};
