// SPDX-License-Identifier: MIT
// The tasks of the workflow, in plan order; clicking a row selects the task
// (as clicking its node in the graph does).
import PropTypes from "prop-types";
import React from "react";
import { Progress, Table } from "semantic-ui-react";
import { i18next } from "@translations/invenio_workflow_records/i18next";
import { StatusLabel } from "../components/StatusLabel";
import {
  durationOf,
  formatDate,
  formatDateCompact,
  formatDuration,
  taskName,
} from "../utils";
import { progressPercent } from "../utils_tasks";

const ellipsis = (maxWidth) => ({
  maxWidth,
  overflow: "hidden",
  textOverflow: "ellipsis",
  whiteSpace: "nowrap",
});

const DateCell = ({ iso }) => (
  <Table.Cell
    title={formatDate(iso, i18next.language)}
    style={{ whiteSpace: "nowrap" }}
  >
    {formatDateCompact(iso, i18next.language)}
  </Table.Cell>
);
DateCell.propTypes = { iso: PropTypes.string };
DateCell.defaultProps = { iso: null };

const TaskRow = React.memo(({ task, selected, onSelect }) => {
  const percent = progressPercent(task.progress);
  return (
    <Table.Row
      className="workflow-task-row"
      active={selected}
      data-task-id={task.id}
      data-status={task.status}
      onClick={() => onSelect(task.id)}
      style={{ cursor: "pointer" }}
    >
      <Table.Cell title={task.name} style={{ whiteSpace: "nowrap" }}>
        <strong>{taskName(task)}</strong>{" "}
        {task.key && <small className="text-muted workflow-task-key">{task.key}</small>}
      </Table.Cell>
      <Table.Cell>
        <StatusLabel status={task.status} size="tiny" />
      </Table.Cell>
      <Table.Cell textAlign="right">{task.attempt ?? "−"}</Table.Cell>
      <Table.Cell textAlign="right">{task.retries ?? 0}</Table.Cell>
      <Table.Cell title={task.worker || ""}>
        <div style={ellipsis("10em")}>{task.worker || "−"}</div>
      </Table.Cell>
      <DateCell iso={task.started_at} />
      <DateCell iso={task.finished_at} />
      <Table.Cell style={{ whiteSpace: "nowrap" }}>
        {formatDuration(durationOf(task))}
      </Table.Cell>
      <Table.Cell style={{ minWidth: "8em" }}>
        {percent !== null && (
          <Progress
            percent={percent}
            size="tiny"
            color={task.status === "running" ? "teal" : "grey"}
            title={`${task.progress.current}/${task.progress.total}${
              task.progress.message ? ` · ${task.progress.message}` : ""
            }`}
            style={{ margin: 0 }}
          />
        )}
        {percent !== null && (
          <small>{`${task.progress.current}/${task.progress.total}`}</small>
        )}
      </Table.Cell>
      <Table.Cell title={task.message || ""}>
        <div style={ellipsis("22em")}>{task.message || ""}</div>
      </Table.Cell>
    </Table.Row>
  );
});
TaskRow.displayName = "TaskRow";
TaskRow.propTypes = {
  task: PropTypes.object.isRequired,
  selected: PropTypes.bool.isRequired,
  onSelect: PropTypes.func.isRequired,
};

export const TaskTable = ({ tasks, selectedId, onSelect }) => (
  <div style={{ overflowX: "auto" }}>
    <Table compact selectable unstackable size="small" className="workflow-task-table">
      <Table.Header>
        <Table.Row>
          <Table.HeaderCell>{i18next.t("Task")}</Table.HeaderCell>
          <Table.HeaderCell>{i18next.t("Status")}</Table.HeaderCell>
          <Table.HeaderCell textAlign="right">{i18next.t("Attempt")}</Table.HeaderCell>
          <Table.HeaderCell textAlign="right">{i18next.t("Retries")}</Table.HeaderCell>
          <Table.HeaderCell>{i18next.t("Worker")}</Table.HeaderCell>
          <Table.HeaderCell>{i18next.t("Started")}</Table.HeaderCell>
          <Table.HeaderCell>{i18next.t("Finished")}</Table.HeaderCell>
          <Table.HeaderCell>{i18next.t("Duration")}</Table.HeaderCell>
          <Table.HeaderCell>{i18next.t("Progress")}</Table.HeaderCell>
          <Table.HeaderCell>{i18next.t("Message")}</Table.HeaderCell>
        </Table.Row>
      </Table.Header>
      <Table.Body>
        {tasks.map((t) => (
          <TaskRow
            key={t.id}
            task={t}
            selected={t.id === selectedId}
            onSelect={onSelect}
          />
        ))}
      </Table.Body>
    </Table>
  </div>
);

TaskTable.propTypes = {
  tasks: PropTypes.array.isRequired,
  selectedId: PropTypes.string,
  onSelect: PropTypes.func.isRequired,
};
TaskTable.defaultProps = { selectedId: null };
