// SPDX-License-Identifier: MIT
// The workflow detail page: header, actions, graph, task panel, tasks and
// history. It refreshes itself while the workflow runs (every
// `config.pollInterval` ms, one request chain at a time), stops when it has
// finished, and reloads right after every action (which may make it run again).
import PropTypes from "prop-types";
import React, { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Button,
  Grid,
  Header,
  Icon,
  Label,
  Message,
  Segment,
  Tab,
} from "semantic-ui-react";
import { i18next } from "@translations/invenio_workflow_records/i18next";
import { WorkflowsApi, errorMessage, errorStatus, fetchAllTasks } from "../api";
import { StatusLabel } from "../components/StatusLabel";
import { TaskCounts } from "../components/TaskCounts";
import {
  actorText,
  durationOf,
  formatDate,
  formatDuration,
  indexById,
  isLiveStatus,
  ownerText,
  relativeDate,
  subjectText,
  toJson,
} from "../utils";
import { History } from "./History";
import { TaskGraph } from "./TaskGraph";
import { TaskPanel } from "./TaskPanel";
import { TaskTable } from "./TaskTable";
import { WorkflowActions } from "./WorkflowActions";

const MESSAGE_KIND = { failed: "negative", stopped: "warning", succeeded: "positive" };

const Fact = ({ label, children, className }) => (
  <Grid.Column className={className}>
    <div className="text-muted" style={{ fontSize: "0.85em" }}>
      {label}
    </div>
    <div>{children}</div>
  </Grid.Column>
);
Fact.propTypes = {
  label: PropTypes.string.isRequired,
  children: PropTypes.node,
  className: PropTypes.string,
};
Fact.defaultProps = { children: null, className: "" };

const DateFact = ({ label, iso, className }) => (
  <Fact label={label} className={className}>
    <span title={iso ? relativeDate(iso, i18next.language) : ""}>
      {formatDate(iso, i18next.language)}
    </span>
  </Fact>
);
DateFact.propTypes = {
  label: PropTypes.string.isRequired,
  iso: PropTypes.string,
  className: PropTypes.string,
};
DateFact.defaultProps = { iso: null, className: "" };

/** The run's params: one line, or the whole JSON on demand. */
const Params = ({ params }) => {
  const [open, setOpen] = useState(false);
  const oneLine = JSON.stringify(params ?? {});
  const long = oneLine.length > 90;
  return (
    <div className="workflow-params" style={{ marginTop: "1em" }}>
      <span className="text-muted" style={{ fontSize: "0.85em" }}>
        {i18next.t("Params")}
      </span>{" "}
      {open ? (
        <pre
          style={{ margin: "0.3em 0", whiteSpace: "pre-wrap", wordBreak: "break-all" }}
        >
          {toJson(params)}
        </pre>
      ) : (
        <code style={{ wordBreak: "break-all" }}>
          {long ? `${oneLine.slice(0, 88)}…` : oneLine}
        </code>
      )}
      {(long || open) && (
        <Button
          basic
          compact
          size="mini"
          type="button"
          style={{ marginLeft: "0.5em" }}
          content={open ? i18next.t("Less") : i18next.t("Show all")}
          onClick={() => setOpen(!open)}
        />
      )}
    </div>
  );
};
Params.propTypes = { params: PropTypes.object };
Params.defaultProps = { params: {} };

const WorkflowHeader = ({ workflow, onChanged, live, pollInterval }) => (
  <>
    <Grid stackable verticalAlign="middle">
      <Grid.Column width={10}>
        <Header as="h2" className="workflow-title" style={{ marginBottom: 0 }}>
          {workflow.title || workflow.name}{" "}
          <StatusLabel status={workflow.status} size="medium" />
          {live && (
            <Label
              basic
              size="tiny"
              className="workflow-live"
              title={i18next.t("Refreshed every {{seconds}} s", {
                seconds: pollInterval / 1000,
              })}
            >
              <Icon name="circle" color="teal" />
              {i18next.t("Live")}
            </Label>
          )}
          <Header.Subheader>
            {i18next.t("Definition")} <code>{workflow.name}</code>
          </Header.Subheader>
        </Header>
      </Grid.Column>
      <Grid.Column width={6} textAlign="right">
        <WorkflowActions workflow={workflow} onChanged={onChanged} />
      </Grid.Column>
    </Grid>
    <Segment className="workflow-summary">
      <Grid columns={4} doubling stackable>
        <Fact label={i18next.t("Subject")} className="workflow-subject">
          {subjectText(workflow.subject)}
        </Fact>
        <Fact label={i18next.t("Run")} className="workflow-run">
          {workflow.run ?? 0}
        </Fact>
        <Fact label={i18next.t("Tasks")}>
          <TaskCounts counts={workflow.task_counts} />
        </Fact>
        <Fact label={i18next.t("Duration")} className="workflow-duration">
          {formatDuration(durationOf(workflow))}
        </Fact>
        <DateFact
          label={i18next.t("Created")}
          iso={workflow.created}
          className="workflow-created"
        />
        <DateFact
          label={i18next.t("Started")}
          iso={workflow.started_at}
          className="workflow-started"
        />
        <DateFact
          label={i18next.t("Finished")}
          iso={workflow.finished_at}
          className="workflow-finished"
        />
        <Fact label={i18next.t("Owner")} className="workflow-owner">
          {ownerText(workflow.owner) || "−"}
          {workflow.actor && (
            <small className="text-muted">
              {` · ${i18next.t("last action by {{actor}}", {
                actor: actorText(workflow.actor),
              })}`}
            </small>
          )}
        </Fact>
      </Grid>
      <Params params={workflow.params} />
    </Segment>
    {workflow.message && (
      <Message
        className="workflow-message"
        size="small"
        {...{ [MESSAGE_KIND[workflow.status] || "info"]: true }}
        content={workflow.message}
      />
    )}
  </>
);
WorkflowHeader.propTypes = {
  workflow: PropTypes.object.isRequired,
  onChanged: PropTypes.func.isRequired,
  live: PropTypes.bool.isRequired,
  pollInterval: PropTypes.number.isRequired,
};

function initialTaskId() {
  return new URLSearchParams(window.location.search).get("task");
}

/** Keep `?task=<id>` in the address, so that the page can be shared as it is. */
function rememberTask(id) {
  const url = new URL(window.location.href);
  if (id) url.searchParams.set("task", id);
  else url.searchParams.delete("task");
  window.history.replaceState(window.history.state, "", url.toString());
}

export const WorkflowDashboard = ({ config }) => {
  const pollInterval = config.pollInterval || 3000;
  // One state object: one render per load, workflow and tasks always agree.
  const [state, setState] = useState({
    workflow: null,
    tasks: [],
    error: null,
    failure: null,
  });
  const [selectedId, setSelectedId] = useState(initialTaskId);
  const timer = useRef(null);
  const tasksLink = useRef(null);
  const latest = useRef(0);
  const mounted = useRef(true);
  const panelRef = useRef(null);
  // The task table (up to hundreds of rows) is drawn once the graph is on
  // screen: the first paint shows the graph sooner.
  const [showTable, setShowTable] = useState(false);
  const scrollToPanel = useRef(false);

  const refresh = useCallback(async () => {
    clearTimeout(timer.current);
    latest.current += 1;
    const call = latest.current;
    const stale = () => call !== latest.current || !mounted.current;
    try {
      // The first load reads the workflow, then its tasks (`links.tasks`):
      // a workflow the user may not read costs one refused request, not two.
      // The next loads read both at the same time.
      const pageSize = config.tasksPageSize || 100;
      let workflow;
      let tasks;
      if (tasksLink.current) {
        const [answer, hits] = await Promise.all([
          WorkflowsApi.read(config.workflowEndpoint),
          fetchAllTasks(tasksLink.current, pageSize),
        ]);
        workflow = answer.data;
        tasks = hits;
      } else {
        workflow = (await WorkflowsApi.read(config.workflowEndpoint)).data;
        tasks = await fetchAllTasks(workflow.links.tasks, pageSize);
      }
      tasksLink.current = workflow.links.tasks;
      if (stale()) return;
      setState({ workflow, tasks, error: null, failure: null });
      if (isLiveStatus(workflow.status))
        timer.current = setTimeout(refresh, pollInterval);
    } catch (e) {
      if (stale()) return;
      setState((s) => ({
        ...s,
        error: errorMessage(e),
        failure: errorStatus(e) ?? "network",
      }));
      // A passing problem (network, 5xx) while live: try again, more slowly.
      const status = errorStatus(e);
      if (!status || status >= 500)
        timer.current = setTimeout(refresh, pollInterval * 4);
    }
  }, [config.workflowEndpoint, config.tasksPageSize, pollInterval]);

  useEffect(() => {
    mounted.current = true;
    refresh();
    return () => {
      mounted.current = false;
      clearTimeout(timer.current);
    };
  }, [refresh]);

  const { workflow, tasks, error } = state;
  const loaded = workflow !== null;
  useEffect(() => {
    if (!loaded || showTable) return undefined;
    let timeout;
    const frame = requestAnimationFrame(() => {
      timeout = setTimeout(() => setShowTable(true), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timeout);
    };
  }, [loaded, showTable]);
  const tasksById = useMemo(() => indexById(tasks), [tasks]);

  const select = useCallback((id) => {
    setSelectedId(id);
    rememberTask(id);
  }, []);
  const selectFromTable = useCallback(
    (id) => {
      scrollToPanel.current = true;
      select(id);
    },
    [select]
  );
  const closePanel = useCallback(() => select(null), [select]);

  useEffect(() => {
    if (scrollToPanel.current && panelRef.current) {
      panelRef.current.scrollIntoView({ behavior: "smooth", block: "nearest" });
    }
    scrollToPanel.current = false;
  }, [selectedId]);

  if (!workflow) {
    if (error) {
      return (
        <Message
          negative
          icon="warning sign"
          className="workflow-dashboard-error"
          data-status-code={state.failure}
          header={
            state.failure === 404
              ? i18next.t("Workflow not found")
              : state.failure === 403 || state.failure === 401
              ? i18next.t("You may not see this workflow")
              : i18next.t("The workflow could not be loaded")
          }
          content={error}
        />
      );
    }
    return <Segment basic loading style={{ minHeight: "10em" }} />;
  }

  const live = isLiveStatus(workflow.status);
  const selected = selectedId ? tasksById.get(selectedId) : null;

  return (
    <div
      className="workflow-dashboard"
      data-workflow-id={workflow.id}
      data-status={workflow.status}
      data-revision-id={workflow.revision_id}
    >
      <WorkflowHeader
        workflow={workflow}
        onChanged={refresh}
        live={live}
        pollInterval={pollInterval}
      />
      {error && (
        <Message warning size="small" className="workflow-refresh-error">
          {i18next.t("Could not refresh: {{error}}", { error })}
        </Message>
      )}
      <Segment
        className="workflow-graph-segment"
        style={{ padding: 0, overflow: "hidden" }}
      >
        <TaskGraph
          tasks={tasks}
          tasksById={tasksById}
          selectedId={selectedId}
          onSelect={select}
        />
      </Segment>
      <div ref={panelRef}>
        {selected && (
          <TaskPanel
            task={selected}
            tasksById={tasksById}
            onChanged={refresh}
            onClose={closePanel}
          />
        )}
      </div>
      <Tab
        className="workflow-tabs"
        panes={[
          {
            menuItem: {
              key: "tasks",
              content: i18next.t("Tasks ({{total}})", { total: tasks.length }),
              className: "workflow-tab-tasks",
            },
            render: () => (
              <Tab.Pane>
                {showTable ? (
                  <TaskTable
                    tasks={tasks}
                    selectedId={selectedId}
                    onSelect={selectFromTable}
                  />
                ) : (
                  <Segment basic loading style={{ minHeight: "6em" }} />
                )}
              </Tab.Pane>
            ),
          },
          {
            menuItem: {
              key: "history",
              content: i18next.t("History"),
              className: "workflow-tab-history",
            },
            render: () => (
              <Tab.Pane>
                <History
                  url={workflow.links.revisions}
                  revisionId={workflow.revision_id}
                />
              </Tab.Pane>
            ),
          },
        ]}
      />
    </div>
  );
};

WorkflowDashboard.propTypes = {
  config: PropTypes.shape({
    workflowId: PropTypes.string,
    workflowEndpoint: PropTypes.string.isRequired,
    tasksSearchEndpoint: PropTypes.string,
    listUIEndpoint: PropTypes.string,
    pollInterval: PropTypes.number,
    tasksPageSize: PropTypes.number,
  }).isRequired,
};
