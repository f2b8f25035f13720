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

/** A status; `live` (default) spins the icon of a running status, off for past states. */
export const StatusLabel = ({ status, size, live }) => {
  const icon = !live && status === "running" ? "play" : ICONS[status];
  return (
    <Label
      size={size}
      color={STATUS_COLORS[status]}
      className={`workflow-status status-${status}`}
      data-status={status}
      style={{ whiteSpace: "nowrap" }}
    >
      {icon && <Icon name={icon} loading={live && status === "running"} />}
      {i18next.t(status)}
    </Label>
  );
};

StatusLabel.propTypes = {
  status: PropTypes.string.isRequired,
  size: PropTypes.string,
  live: PropTypes.bool,
};
StatusLabel.defaultProps = { size: "small", live: true };
