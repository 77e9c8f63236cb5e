// The sign-in form: an API token, kept for this browser tab only.
import { useState, type FormEvent } from "react";

export function TokenForm({ rejected, onToken }: { rejected: string | null; onToken: (token: string) => void }) {
  const [value, setValue] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) onToken(value.trim());
  };
  return (
    <main className="token-page">
      <form className="token-form" onSubmit={submit} aria-label="Sign in with an API token">
        <h1>What runs where</h1>
        <p>Paste an API token (read scope is enough). It is kept for this browser tab only.</p>
        {rejected !== null && (
          <p className="error" role="alert">
            Token rejected: {rejected || "the server did not accept it"}. Paste another one.
          </p>
        )}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          aria-label="API token"
          placeholder="clp_…"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          autoFocus
        />
        <button type="submit" aria-label="Connect with this token" disabled={!value.trim()}>
          Connect
        </button>
        <p className="hint">
          Create one with <code>chainloop token create --name viewer --scope read</code>.
        </p>
      </form>
    </main>
  );
}
