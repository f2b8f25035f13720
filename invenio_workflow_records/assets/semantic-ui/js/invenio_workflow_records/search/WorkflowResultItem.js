// SPDX-License-Identifier: MIT
// One row of /administration/workflows (overrides the admin search row).
import PropTypes from "prop-types";
import React from "react";
import { Popup, Table } from "semantic-ui-react";
import { withState } from "react-searchkit";
import { i18next } from "@translations/invenio_workflow_records/i18next";
import { StatusLabel } from "../components/StatusLabel";
import { TaskCounts } from "../components/TaskCounts";
import {
  durationOf,
  formatDate,
  formatDuration,
  relativeDate,
  subjectText,
} from "../utils";

const WorkflowRow = ({ result, listUIEndpoint }) => (
  <Table.Row
    className="workflow-row"
    data-workflow-id={result.id}
    data-status={result.status}
  >
    <Table.Cell data-label={i18next.t("Workflow")}>
      <a href={`${listUIEndpoint}/${result.id}`}>{result.title || result.name}</a>
      <div>
        <small className="text-muted">{result.name}</small>
      </div>
    </Table.Cell>
    <Table.Cell data-label={i18next.t("Subject")} className="word-break-all">
      {subjectText(result.subject)}
    </Table.Cell>
    <Table.Cell data-label={i18next.t("Status")}>
      <StatusLabel status={result.status} />
    </Table.Cell>
    <Table.Cell data-label={i18next.t("Tasks")}>
      <TaskCounts counts={result.task_counts} />
    </Table.Cell>
    <Table.Cell data-label={i18next.t("Run")}>{result.run ?? 0}</Table.Cell>
    <Table.Cell data-label={i18next.t("Created")}>
      <Popup
        content={formatDate(result.created, i18next.language)}
        trigger={<span>{relativeDate(result.created, i18next.language)}</span>}
      />
    </Table.Cell>
    <Table.Cell data-label={i18next.t("Duration")}>
      {formatDuration(durationOf(result))}
    </Table.Cell>
  </Table.Row>
);

WorkflowRow.propTypes = {
  result: PropTypes.object.isRequired,
  listUIEndpoint: PropTypes.string.isRequired,
};

export const WorkflowResultItem = withState(WorkflowRow);
