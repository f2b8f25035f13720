// SPDX-License-Identifier: MIT
// Task counts of a workflow (`task_counts`) as a stacked progress bar.
import PropTypes from "prop-types";
import React from "react";
import { Popup } from "semantic-ui-react";
import { i18next } from "@translations/invenio_workflow_records/i18next";
import { STATUS_FILLS } from "../utils";

const ORDER = [
  "succeeded",
  "failed",
  "stopped",
  "skipped",
  "running",
  "retrying",
  "queued",
  "pending",
];

export const TaskCounts = ({ counts }) => {
  const total = Object.values(counts || {}).reduce((a, b) => a + b, 0);
  if (!total) return <span>−</span>;
  const done = (counts.succeeded || 0) + (counts.skipped || 0);
  const text = ORDER.filter((s) => counts[s])
    .map((s) => `${i18next.t(s)}: ${counts[s]}`)
    .join(", ");
  return (
    <Popup
      content={text}
      trigger={
        <div className="workflow-task-counts" data-total={total} aria-label={text}>
          <div
            style={{
              display: "flex",
              height: "0.8em",
              borderRadius: 3,
              overflow: "hidden",
            }}
          >
            {ORDER.filter((s) => counts[s]).map((s) => (
              <div
                key={s}
                title={`${s}: ${counts[s]}`}
                style={{
                  width: `${(100 * counts[s]) / total}%`,
                  background: STATUS_FILLS[s],
                }}
              />
            ))}
          </div>
          <small>{`${done}/${total}`}</small>
        </div>
      }
    />
  );
};

TaskCounts.propTypes = { counts: PropTypes.object };
TaskCounts.defaultProps = { counts: {} };
