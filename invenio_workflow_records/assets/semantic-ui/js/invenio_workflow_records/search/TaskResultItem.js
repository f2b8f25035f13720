// SPDX-License-Identifier: MIT
// One row of /administration/workflow-tasks: links to the task's workflow.
import PropTypes from "prop-types";
import React from "react";
import { Table } from "semantic-ui-react";
import { withState } from "react-searchkit";
import { i18next } from "@translations/invenio_workflow_records/i18next";
import { StatusLabel } from "../components/StatusLabel";
import { durationOf, formatDate, formatDateCompact, formatDuration } from "../utils";

const TaskRow = ({ result, workflowsUIEndpoint }) => (
  <Table.Row className="task-row" data-task-id={result.id} data-status={result.status}>
    <Table.Cell data-label={i18next.t("Task")}>
      <a href={`${workflowsUIEndpoint}/${result.workflow_id}?task=${result.id}`}>
        {result.short_name || result.name}
      </a>
    </Table.Cell>
    <Table.Cell data-label={i18next.t("Workflow")}>{result.workflow_name}</Table.Cell>
    <Table.Cell data-label={i18next.t("Status")}>
      <StatusLabel status={result.status} />
    </Table.Cell>
    <Table.Cell data-label={i18next.t("Attempt")}>{result.attempt ?? "−"}</Table.Cell>
    <Table.Cell data-label={i18next.t("Worker")} title={result.worker || ""}>
      <div
        style={{
          maxWidth: "10em",
          overflow: "hidden",
          textOverflow: "ellipsis",
          whiteSpace: "nowrap",
        }}
      >
        {result.worker || "−"}
      </div>
    </Table.Cell>
    <Table.Cell
      data-label={i18next.t("Started")}
      title={formatDate(result.started_at, i18next.language)}
    >
      {formatDateCompact(result.started_at, i18next.language)}
    </Table.Cell>
    <Table.Cell data-label={i18next.t("Duration")}>
      {formatDuration(durationOf(result))}
    </Table.Cell>
  </Table.Row>
);

TaskRow.propTypes = {
  result: PropTypes.object.isRequired,
  workflowsUIEndpoint: PropTypes.string.isRequired,
};

export const TaskResultItem = withState(TaskRow);
