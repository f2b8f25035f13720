// SPDX-License-Identifier: MIT
// SVG drawing of the task graph: nodes coloured by status, click selects.
// Pan and zoom with a plain SVG transform: the mouse wheel zooms around the
// pointer, dragging pans, and the +/−/fit buttons do the same by steps.
import PropTypes from "prop-types";
import React, {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { Button, Label, Segment } from "semantic-ui-react";
import { i18next } from "@translations/invenio_workflow_records/i18next";
import { STATUS_FILLS, taskName } from "../utils";
import { layoutTasks, NODE_HEIGHT, NODE_WIDTH } from "./layout";

/** Height of the drawing area: the graph's own height, at most this. */
const MAX_HEIGHT = 480;
const MIN_HEIGHT = 140;
/**
 * The first view fits the graph, but never below this scale: at 0.6 the
 * 13 px task names are still about 8 px high, readable. A larger graph
 * (e.g. 200 parallel tasks) starts at this scale, centred; "fit" shows all.
 */
const MIN_READABLE_SCALE = 0.6;
const MIN_SCALE = 0.02;
const MAX_SCALE = 2.5;
const PAD = 12;
const ZOOM_STEP = 1.25;
const DRAG_THRESHOLD = 4;
const LABEL_CHARS = 21;

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

const edgePath = (points) =>
  points
    .map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`)
    .join(" ");

const shortLabel = (text) =>
  text.length > LABEL_CHARS ? `${text.slice(0, LABEL_CHARS - 1)}…` : text;

/** The scale that shows the whole graph in a `width` × `height` area (at most 1). */
function fitScale(layout, width, height) {
  if (!layout.width || !layout.height || !width) return 1;
  return Math.min(
    (width - 2 * PAD) / layout.width,
    (height - 2 * PAD) / layout.height,
    1
  );
}

/** The view with the graph centred at scale `k` (left-aligned when wider than the area). */
function centredView(layout, width, height, k) {
  const w = layout.width * k;
  const h = layout.height * k;
  return {
    k,
    x: w <= width - 2 * PAD ? (width - w) / 2 : PAD,
    y: (height - h) / 2,
  };
}

/** `view`, moved so that `node` is inside the area (unchanged if it is). */
function withNodeVisible(view, node, width, height) {
  if (!node) return view;
  const left = view.x + node.x * view.k;
  const top = view.y + node.y * view.k;
  const right = left + NODE_WIDTH * view.k;
  const bottom = top + NODE_HEIGHT * view.k;
  if (left >= 0 && top >= 0 && right <= width && bottom <= height) return view;
  return {
    k: view.k,
    x: width / 2 - (node.x + NODE_WIDTH / 2) * view.k,
    y: height / 2 - (node.y + NODE_HEIGHT / 2) * view.k,
  };
}

/** Edges and nodes: re-rendered when statuses or the selection change, not on pan/zoom. */
const GraphContent = React.memo(({ layout, tasksById, selectedId, onNodeClick }) => (
  <>
    {/* Many edges overlap: lighter, so that the nodes stay readable. */}
    <g strokeOpacity={layout.edges.length > 60 ? 0.45 : 1}>
      {layout.edges.map((e) => (
        <path
          key={`${e.from}>${e.to}`}
          className="workflow-graph-edge"
          d={edgePath(e.points)}
          fill="none"
          stroke="#8c8c8c"
          markerEnd="url(#wf-arrow)"
        />
      ))}
    </g>
    {layout.nodes.map(({ id, x, y }) => {
      const task = tasksById.get(id) || { id };
      const status = task.status || "pending";
      const selected = id === selectedId;
      const name = taskName(task);
      const progress = task.progress?.total
        ? ` · ${task.progress.current}/${task.progress.total}`
        : "";
      const attempt = task.attempt > 1 ? ` · #${task.attempt}` : "";
      const tooltip = [task.name || name, i18next.t(status), task.message]
        .filter(Boolean)
        .join("\n");
      return (
        <g
          key={id}
          className={`workflow-graph-node status-${status}${
            selected ? " selected" : ""
          }`}
          data-task-id={id}
          data-status={status}
          transform={`translate(${x},${y})`}
          onClick={() => onNodeClick(id)}
          onKeyDown={(ev) => ev.key === "Enter" && onNodeClick(id)}
          style={{ cursor: "pointer" }}
          tabIndex={0}
          role="button"
          aria-pressed={selected}
          aria-label={`${name}: ${i18next.t(status)}`}
        >
          <title>{tooltip}</title>
          <rect
            width={NODE_WIDTH}
            height={NODE_HEIGHT}
            rx={6}
            fill={STATUS_FILLS[status] || "#fff"}
            stroke={selected ? "#1b1c1d" : "#999"}
            strokeWidth={selected ? 3 : 1}
          />
          <text x={8} y={18} fontSize="13" fontWeight="bold" fill="#1b1c1d">
            {shortLabel(name)}
          </text>
          <text x={8} y={35} fontSize="11" fill="#333">
            {i18next.t(status)}
            {attempt}
            {progress}
          </text>
          {task.key && (
            <text
              x={NODE_WIDTH - 8}
              y={35}
              fontSize="10"
              fill="#767676"
              textAnchor="end"
            >
              {task.key}
            </text>
          )}
        </g>
      );
    })}
  </>
));
GraphContent.displayName = "GraphContent";
GraphContent.propTypes = {
  layout: PropTypes.object.isRequired,
  tasksById: PropTypes.instanceOf(Map).isRequired,
  selectedId: PropTypes.string,
  onNodeClick: PropTypes.func.isRequired,
};
GraphContent.defaultProps = { selectedId: null };

export const TaskGraph = ({ tasks, tasksById, selectedId, onSelect }) => {
  // Re-layout only when the structure changes, not on every status poll.
  const shape = useMemo(
    () => tasks.map((t) => `${t.id}<${(t.parents || []).join(",")}`).join(";"),
    [tasks]
  );
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const layout = useMemo(() => layoutTasks(tasks), [shape]);

  const hasNodes = layout.nodes.length > 0;
  const containerRef = useRef(null);
  const svgRef = useRef(null);
  const [width, setWidth] = useState(0);
  const [view, setView] = useState(null);
  const viewRef = useRef(view);
  viewRef.current = view;
  const drag = useRef(null);
  const [dragging, setDragging] = useState(false);
  const suppressClick = useRef(false);

  // The area's height: the graph at the scale that fits its width, within bounds.
  const height = useMemo(() => {
    const k = width ? Math.min(1, (width - 2 * PAD) / (layout.width || 1)) : 1;
    return clamp(
      layout.height * Math.max(k, MIN_READABLE_SCALE) + 2 * PAD,
      MIN_HEIGHT,
      MAX_HEIGHT
    );
  }, [layout, width]);

  const initialView = useCallback(
    () =>
      centredView(
        layout,
        width,
        height,
        clamp(fitScale(layout, width, height), MIN_READABLE_SCALE, 1)
      ),
    [layout, width, height]
  );

  // Width of the area (and its changes).
  useLayoutEffect(() => {
    const el = containerRef.current;
    if (!el) return undefined;
    setWidth(el.clientWidth);
    if (typeof ResizeObserver === "undefined") return undefined;
    const observer = new ResizeObserver(([entry]) =>
      setWidth(Math.round(entry.contentRect.width))
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasNodes]);

  // A new structure (or the first measure) starts from the initial view.
  const viewFor = useRef(null);
  useLayoutEffect(() => {
    if (!width || !layout.nodes.length) return;
    if (viewFor.current === layout && view) return;
    viewFor.current = layout;
    setView(
      withNodeVisible(initialView(), layout.positions.get(selectedId), width, height)
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [layout, width]);

  // A selected task is brought into view (from the table, the URL) and, in
  // an overview too small to read, zoomed to a readable scale.
  useEffect(() => {
    const current = viewRef.current;
    const node = layout.positions.get(selectedId);
    if (!current || !node) return;
    if (current.k < MIN_READABLE_SCALE) {
      const k = MIN_READABLE_SCALE;
      setView({
        k,
        x: width / 2 - (node.x + NODE_WIDTH / 2) * k,
        y: height / 2 - (node.y + NODE_HEIGHT / 2) * k,
      });
      return;
    }
    const next = withNodeVisible(current, node, width, height);
    if (next !== current) setView(next);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selectedId]);

  const zoomAt = useCallback((factor, px, py) => {
    setView((v) => {
      if (!v) return v;
      const k = clamp(v.k * factor, MIN_SCALE, MAX_SCALE);
      const ratio = k / v.k;
      return { k, x: px - (px - v.x) * ratio, y: py - (py - v.y) * ratio };
    });
  }, []);

  // Wheel zoom around the pointer: a native, non-passive listener, so that
  // the page does not scroll at the same time.
  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) return undefined;
    const onWheel = (ev) => {
      ev.preventDefault();
      const rect = svg.getBoundingClientRect();
      const unit = ev.deltaMode === 1 ? 33 : ev.deltaMode === 2 ? 400 : 1;
      const factor = Math.exp(clamp(-ev.deltaY * unit, -300, 300) * 0.0015);
      zoomAt(factor, ev.clientX - rect.left, ev.clientY - rect.top);
    };
    svg.addEventListener("wheel", onWheel, { passive: false });
    return () => svg.removeEventListener("wheel", onWheel);
  }, [zoomAt, hasNodes]);

  // Drag to pan; a drag does not count as a click on the node under it.
  const onPointerDown = (ev) => {
    if (ev.button !== 0 || !view) return;
    drag.current = {
      id: ev.pointerId,
      sx: ev.clientX,
      sy: ev.clientY,
      x: view.x,
      y: view.y,
      moved: false,
    };
  };
  const onPointerMove = (ev) => {
    const d = drag.current;
    if (!d || d.id !== ev.pointerId) return;
    const dx = ev.clientX - d.sx;
    const dy = ev.clientY - d.sy;
    if (!d.moved) {
      if (Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
      d.moved = true;
      svgRef.current.setPointerCapture(ev.pointerId);
      setDragging(true);
    }
    setView((v) => ({ ...v, x: d.x + dx, y: d.y + dy }));
  };
  const onPointerUp = (ev) => {
    const d = drag.current;
    if (!d || d.id !== ev.pointerId) return;
    drag.current = null;
    if (d.moved) {
      svgRef.current.releasePointerCapture(ev.pointerId);
      setDragging(false);
      suppressClick.current = true;
      setTimeout(() => {
        suppressClick.current = false;
      }, 0);
    }
  };

  const onNodeClick = useCallback(
    (id) => {
      if (!suppressClick.current) onSelect(id);
    },
    [onSelect]
  );

  if (!hasNodes) {
    return (
      <Segment basic textAlign="center" className="workflow-graph workflow-graph-empty">
        <em>{i18next.t("This workflow has no tasks.")}</em>
      </Segment>
    );
  }

  const zoomCentre = (factor) => zoomAt(factor, width / 2, height / 2);
  const fit = () =>
    setView(
      centredView(
        layout,
        width,
        height,
        clamp(fitScale(layout, width, height), MIN_SCALE, 1)
      )
    );

  return (
    <div
      className="workflow-graph"
      ref={containerRef}
      style={{ position: "relative", height, overflow: "hidden", userSelect: "none" }}
    >
      <svg
        ref={svgRef}
        width="100%"
        height={height}
        role="img"
        aria-label={i18next.t("Task graph")}
        style={{
          display: "block",
          cursor: dragging ? "grabbing" : "grab",
          touchAction: "none",
        }}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
      >
        <defs>
          <marker
            id="wf-arrow"
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="6"
            markerHeight="6"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" fill="#8c8c8c" />
          </marker>
        </defs>
        {view && (
          <g
            className="workflow-graph-viewport"
            transform={`translate(${view.x},${view.y}) scale(${view.k})`}
          >
            <GraphContent
              layout={layout}
              tasksById={tasksById}
              selectedId={selectedId}
              onNodeClick={onNodeClick}
            />
          </g>
        )}
      </svg>
      <div
        className="workflow-graph-controls"
        style={{ position: "absolute", top: 6, right: 6 }}
      >
        {view && (
          <Label
            basic
            size="small"
            className="workflow-graph-zoom"
            style={{ marginRight: 6 }}
          >
            {`${Math.round(view.k * 100)}%`}
          </Label>
        )}
        <Button.Group size="mini" basic>
          <Button
            type="button"
            icon="plus"
            className="workflow-graph-zoom-in"
            title={i18next.t("Zoom in")}
            aria-label={i18next.t("Zoom in")}
            onClick={() => zoomCentre(ZOOM_STEP)}
          />
          <Button
            type="button"
            icon="minus"
            className="workflow-graph-zoom-out"
            title={i18next.t("Zoom out")}
            aria-label={i18next.t("Zoom out")}
            onClick={() => zoomCentre(1 / ZOOM_STEP)}
          />
          <Button
            type="button"
            icon="expand"
            className="workflow-graph-fit"
            title={i18next.t("Fit the whole graph")}
            aria-label={i18next.t("Fit the whole graph")}
            onClick={fit}
          />
        </Button.Group>
      </div>
      <small
        className="workflow-graph-hint text-muted"
        style={{ position: "absolute", left: 8, bottom: 4, pointerEvents: "none" }}
      >
        {i18next.t("Tasks: {{tasks}} · scroll to zoom, drag to pan", {
          tasks: layout.nodes.length,
        })}
      </small>
    </div>
  );
};

TaskGraph.propTypes = {
  tasks: PropTypes.array.isRequired,
  tasksById: PropTypes.instanceOf(Map).isRequired,
  selectedId: PropTypes.string,
  onSelect: PropTypes.func.isRequired,
};
TaskGraph.defaultProps = { selectedId: null };
