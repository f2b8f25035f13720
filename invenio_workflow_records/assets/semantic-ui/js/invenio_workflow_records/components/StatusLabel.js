// SPDX-License-Identifier: MIT
import PropTypes from "prop-types";
import React from "react";
import { Icon, Label } from "semantic-ui-react";
import { i18next } from "@translations/invenio_workflow_records/i18next";
import { STATUS_COLORS } from "../utils";

const ICONS = {
  running: "spinner",
  retrying: "redo",
  succeeded: "check",
  failed: "times",
  stopped: "stop",
  queued: "clock outline",
  pending: "hourglass outline",
  skipped: "minus",
  created: "circle outline",
};

export const StatusLabel = ({ status, size }) => (
  <Label
    size={size}
    color={STATUS_COLORS[status]}
    className={`workflow-status status-${status}`}
    data-status={status}
    style={{ whiteSpace: "nowrap" }}
  >
    {ICONS[status] && <Icon name={ICONS[status]} loading={status === "running"} />}
    {i18next.t(status)}
  </Label>
);

StatusLabel.propTypes = { status: PropTypes.string.isRequired, size: PropTypes.string };
StatusLabel.defaultProps = { size: "small" };
