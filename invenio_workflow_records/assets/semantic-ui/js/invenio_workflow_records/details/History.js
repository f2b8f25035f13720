// SPDX-License-Identifier: MIT
// Workflow history: its revisions (GET links.revisions, newest first) as a
// timeline: status changes, run numbers, who acted (the revision's `actor`,
// present on the revisions written by an action: start, stop, restart,
// resume, task actions), task counts and message.
import PropTypes from "prop-types";
import React, { useState } from "react";
import { Button, Feed, Icon, Message, Segment } from "semantic-ui-react";
import { i18next } from "@translations/invenio_workflow_records/i18next";
import { StatusLabel } from "../components/StatusLabel";
import { TaskCounts } from "../components/TaskCounts";
import { useRevisions } from "../components/useRevisions";
import { actorText, formatDate, formatDuration, relativeDate } from "../utils";

const PAGE = 25;

const ICONS = {
  created: "plus",
  running: "play",
  succeeded: "check",
  failed: "times",
  stopped: "stop",
};

/** What happened in `r`, compared with the revision before it (`previous`, older). */
function eventText(r, previous) {
  if (!previous) {
    return r.status === "created"
      ? i18next.t("Created")
      : i18next.t("Created and started (run {{run}})", { run: r.run ?? 0 });
  }
  if ((r.run ?? 0) > (previous.run ?? 0)) {
    return (previous.run ?? 0) === 0
      ? i18next.t("Started (run {{run}})", { run: r.run })
      : i18next.t("Restarted as run {{run}}", { run: r.run });
  }
  if (r.status !== previous.status) {
    return i18next.t("{{from}} → {{to}}", {
      from: i18next.t(previous.status),
      to: i18next.t(r.status),
    });
  }
  return i18next.t("Updated");
}

export const History = ({ url, revisionId }) => {
  const [size, setSize] = useState(PAGE);
  // One more than shown, to tell what changed in the oldest one shown.
  const { hits: events, total, error } = useRevisions(url, revisionId, size + 1);
  if (error) return <Message negative content={error} />;
  if (!events) return <Segment basic loading />;
  const shown = events.slice(0, size);
  return (
    <>
      <Feed className="workflow-history">
        {shown.map((r, i) => {
          const previous = events[i + 1];
          const actor = actorText(r.actor);
          return (
            <Feed.Event
              key={r.revision_id}
              className="workflow-history-item"
              data-revision-id={r.revision_id}
              data-status={r.status}
            >
              <Feed.Label>
                <Icon
                  name={ICONS[r.status] || "circle outline"}
                  circular
                  inverted
                  color="grey"
                  size="small"
                />
              </Feed.Label>
              <Feed.Content>
                <Feed.Summary>
                  {eventText(r, previous)}{" "}
                  <StatusLabel status={r.status} size="tiny" live={false} />
                  <Feed.Date title={formatDate(r.updated, i18next.language)}>
                    {`${formatDate(r.updated, i18next.language)} (${relativeDate(
                      r.updated,
                      i18next.language
                    )})`}
                  </Feed.Date>
                </Feed.Summary>
                <Feed.Meta>
                  {[
                    i18next.t("Run {{run}}", { run: r.run ?? 0 }),
                    actor && i18next.t("by {{actor}}", { actor }),
                    r.duration !== undefined && r.duration !== null
                      ? `${i18next.t("Duration")} ${formatDuration(r.duration)}`
                      : null,
                    i18next.t("Revision {{revision}}", { revision: r.revision_id }),
                  ]
                    .filter(Boolean)
                    .join(" · ")}
                </Feed.Meta>
                {r.message && <Feed.Extra text>{r.message}</Feed.Extra>}
                {r.task_counts && Object.keys(r.task_counts).length > 0 && (
                  <Feed.Extra style={{ maxWidth: "20em" }}>
                    <TaskCounts counts={r.task_counts} />
                  </Feed.Extra>
                )}
              </Feed.Content>
            </Feed.Event>
          );
        })}
      </Feed>
      {total > shown.length && (
        <Button
          basic
          size="small"
          type="button"
          className="workflow-history-more"
          content={i18next.t("Show older events ({{left}} more)", {
            left: total - shown.length,
          })}
          onClick={() => setSize((s) => Math.min(999, s + PAGE * 4))}
        />
      )}
    </>
  );
};

History.propTypes = { url: PropTypes.string.isRequired, revisionId: PropTypes.number };
History.defaultProps = { revisionId: null };
