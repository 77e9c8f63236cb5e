// The bar above every view: the title, the live-updates badge, the views, the view's own
// controls (children) and signing out.
import type { ReactNode } from "react";
import { routeHref, type ViewName } from "./hooks.js";
import type { LiveStatus } from "./live.js";

const VIEWS: Array<{ view: ViewName; label: string; title: string }> = [
  { view: "live", label: "What runs where", title: "What runs where, live" },
  { view: "compare", label: "Compare", title: "Compare two places" },
  { view: "metrics", label: "Metrics", title: "Delivery metrics (DORA) per logical environment" },
];

export function TopBar(props: {
  view: ViewName;
  status: LiveStatus;
  message: string;
  onSignOut: () => void;
  /** Set while the view shows a past instant: the badge says so instead of "Live". */
  pausedAt?: string;
  children?: ReactNode;
}) {
  return (
    <header className="topbar">
      <h1 className="brand">Chainloop</h1>
      <StatusBadge status={props.status} message={props.message} pausedAt={props.pausedAt} />
      <nav className="views" aria-label="Views">
        {VIEWS.map((v) => (
          <a key={v.view} href={routeHref(v.view)} title={v.title} className={v.view === props.view ? "current" : ""} aria-current={v.view === props.view ? "page" : undefined}>
            {v.label}
          </a>
        ))}
      </nav>
      <div className="topbar-end">
        {props.children}
        <button className="link signout" type="button" aria-label="Sign out (forget the API token)" onClick={props.onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}

function StatusBadge({ status, message, pausedAt }: { status: LiveStatus; message: string; pausedAt?: string }) {
  const text =
    status === "live" && pausedAt
      ? `As of ${pausedAt}`
      : { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", rejected: "Token rejected", failed: "Stopped" }[status];
  return (
    <span className={`live-badge ${status === "live" && pausedAt ? "paused" : status}`} role="status" aria-label={`Live updates: ${text}${message ? ` (${message})` : ""}`} title={message}>
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  );
}
