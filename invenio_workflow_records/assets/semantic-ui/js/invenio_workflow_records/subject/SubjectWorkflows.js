// SPDX-License-Identifier: MIT
// Subject widget: the latest workflows of one subject (e.g. a record), for a
// host module's page: GET <apiEndpoint>?subject=<type>:<id>&sort=newest.
// Each shows its status, task progress, a link to its dashboard and the
// actions the current user may do (the same confirmation modals as the
// dashboard). It refreshes itself while one of them runs.
//
// A host page mounts it with the Jinja macros of
// invenio_workflow_records/macros/subject.html, or imports it in its own
// bundle:
//   import { SubjectWorkflows } from "@js/invenio_workflow_records/subject/SubjectWorkflows";
//   <SubjectWorkflows apiEndpoint="/api/workflows" subject={{ type: "record", id }} />
import PropTypes from "prop-types";
import React, { useCallback, useEffect, useRef, useState } from "react";
import { Header, List, Message, Segment } from "semantic-ui-react";
import { i18next } from "@translations/invenio_workflow_records/i18next";
import { WorkflowsApi, errorMessage, errorStatus } from "../api";
import { StatusLabel } from "../components/StatusLabel";
import { TaskCounts } from "../components/TaskCounts";
import { WorkflowActions } from "../details/WorkflowActions";
import { formatDate, isLiveStatus, relativeDate } from "../utils";

const SubjectWorkflow = ({ workflow, dashboardUrl, onChanged }) => {
  const title = workflow.title || workflow.name;
  return (
    <List.Item
      className="subject-workflow"
      data-workflow-id={workflow.id}
      data-status={workflow.status}
      style={{ padding: "0.7em 0" }}
    >
      <List.Content floated="right">
        <WorkflowActions
          workflow={workflow}
          onChanged={onChanged}
          size="tiny"
          compact
        />
      </List.Content>
      <List.Content>
        <List.Header style={{ marginBottom: "0.3em" }}>
          <StatusLabel status={workflow.status} size="tiny" />{" "}
          {dashboardUrl ? (
            <a
              className="subject-workflow-link"
              href={`${dashboardUrl.replace(/\/$/, "")}/${workflow.id}`}
            >
              {title}
            </a>
          ) : (
            <span>{title}</span>
          )}
        </List.Header>
        <List.Description>
          <small className="text-muted">
            {workflow.name}
            {" · "}
            {i18next.t("Run {{run}}", { run: workflow.run ?? 0 })}
            {" · "}
            <span title={formatDate(workflow.created, i18next.language)}>
              {i18next.t("created {{when}}", {
                when: relativeDate(workflow.created, i18next.language),
              })}
            </span>
          </small>
          <div style={{ maxWidth: "16em", marginTop: "0.3em" }}>
            <TaskCounts counts={workflow.task_counts} />
          </div>
          {workflow.message && workflow.status !== "succeeded" && (
            <div className="subject-workflow-message">
              <small>{workflow.message}</small>
            </div>
          )}
        </List.Description>
      </List.Content>
    </List.Item>
  );
};

SubjectWorkflow.propTypes = {
  workflow: PropTypes.object.isRequired,
  dashboardUrl: PropTypes.string,
  onChanged: PropTypes.func.isRequired,
};
SubjectWorkflow.defaultProps = { dashboardUrl: "" };

export const SubjectWorkflows = ({
  apiEndpoint,
  subject,
  dashboardUrl,
  size,
  pollInterval,
  title,
}) => {
  const [result, setResult] = useState(null); // {hits, total}
  const [error, setError] = useState(null);
  // Workflows read directly (an action's answer, a live read): fresher than
  // the search index until the index catches up (a higher revision wins).
  const fresh = useRef(new Map());
  const timer = useRef(null);
  const latest = useRef(0);
  const mounted = useRef(true);

  const merge = (hits) =>
    hits.map((h) => {
      const f = fresh.current.get(h.id);
      return f && f.revision_id > h.revision_id ? f : h;
    });

  const load = useCallback(async () => {
    clearTimeout(timer.current);
    latest.current += 1;
    const call = latest.current;
    try {
      const { data } = await WorkflowsApi.search(apiEndpoint, {
        subject: `${subject.type}:${subject.id}`,
        sort: "newest",
        size,
      });
      let hits = merge(data.hits.hits);
      // The running ones are read directly: their live task counts.
      const live = hits.filter((w) => isLiveStatus(w.status) && w.links?.self);
      if (live.length) {
        const reads = await Promise.all(
          live.map((w) => WorkflowsApi.read(w.links.self).catch(() => null))
        );
        reads.forEach((r) => r && fresh.current.set(r.data.id, r.data));
        hits = merge(data.hits.hits);
      }
      if (call !== latest.current || !mounted.current) return;
      setResult({ hits, total: data.hits.total });
      setError(null);
      if (hits.some((w) => isLiveStatus(w.status)))
        timer.current = setTimeout(load, pollInterval);
    } catch (e) {
      if (call !== latest.current || !mounted.current) return;
      setError({ message: errorMessage(e), status: errorStatus(e) });
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [apiEndpoint, subject.type, subject.id, size, pollInterval]);

  useEffect(() => {
    mounted.current = true;
    load();
    return () => {
      mounted.current = false;
      clearTimeout(timer.current);
    };
  }, [load]);

  const onChanged = (workflow) => {
    if (workflow?.id) {
      fresh.current.set(workflow.id, workflow);
      setResult((r) => r && { ...r, hits: merge(r.hits) });
    }
    load();
  };

  let body;
  if (error && !result) {
    body =
      error.status === 401 || error.status === 403 ? (
        <p className="text-muted subject-workflows-denied">
          <small>{i18next.t("You may not see the workflows of this item.")}</small>
        </p>
      ) : (
        <Message
          negative
          size="small"
          className="subject-workflows-error"
          content={error.message}
        />
      );
  } else if (!result) {
    body = <Segment basic loading style={{ minHeight: "4em" }} />;
  } else if (!result.hits.length) {
    body = (
      <p className="subject-workflows-empty">
        <em>{i18next.t("No workflows.")}</em>
      </p>
    );
  } else {
    body = (
      <>
        <List divided className="subject-workflows">
          {result.hits.map((w) => (
            <SubjectWorkflow
              key={w.id}
              workflow={w}
              dashboardUrl={dashboardUrl}
              onChanged={onChanged}
            />
          ))}
        </List>
        {result.total > result.hits.length && (
          <small className="text-muted">
            {i18next.t("The latest {{shown}} of {{total}} workflows.", {
              shown: result.hits.length,
              total: result.total,
            })}
          </small>
        )}
        {error && (
          <Message
            warning
            size="mini"
            content={i18next.t("Could not refresh: {{error}}", {
              error: error.message,
            })}
          />
        )}
      </>
    );
  }
  const heading = title === undefined ? i18next.t("Workflows") : title;
  return (
    <div className="subject-workflows-widget">
      {heading && (
        <Header as="h3" size="small">
          {heading}
        </Header>
      )}
      {body}
    </div>
  );
};

SubjectWorkflows.propTypes = {
  /** The workflows search endpoint, e.g. "/api/workflows". */
  apiEndpoint: PropTypes.string.isRequired,
  subject: PropTypes.shape({ type: PropTypes.string, id: PropTypes.string }).isRequired,
  /** Base URL of the admin dashboards ("/administration/workflows"); "" for no links. */
  dashboardUrl: PropTypes.string,
  size: PropTypes.number,
  /** Refresh interval (ms) while a workflow runs. */
  pollInterval: PropTypes.number,
  /** Heading of the widget (default "Workflows"); "" for none. */
  title: PropTypes.string,
};
SubjectWorkflows.defaultProps = {
  dashboardUrl: "",
  size: 5,
  pollInterval: 3000,
  title: undefined,
};

export default SubjectWorkflows;
