// The Shelf API as the console uses it: bearer-token fetches, RFC 9457 problems as errors, and the SSE stream read with
// fetch() (EventSource cannot send an Authorization header).

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async request(method, path, body, { signal, accept = 'application/json' } = {}) {
    const headers = { Authorization: `Bearer ${this.token}`, Accept: accept };
    const init = { method, headers, signal, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (response.status === 204) return null;
    const type = response.headers.get('Content-Type') || '';
    const payload = type.includes('json') ? await response.json().catch(() => null) : await response.text();
    if (!response.ok) throw new ApiError(response.status, typeof payload === 'object' ? payload : { detail: payload });
    return payload;
  }

  get(path, options) { return this.request('GET', path, undefined, options); }
  post(path, body, options) { return this.request('POST', path, body, options); }
  patch(path, body, options) { return this.request('PATCH', path, body, options); }
  delete(path, options) { return this.request('DELETE', path, undefined, options); }
}

/** Splits an SSE byte stream into events. `onEvent({id, event, data})`; `onComment(text)` for `: live` and heartbeats. */
export class SSEParser {
  constructor(onEvent, onComment) {
    this.onEvent = onEvent;
    this.onComment = onComment || (() => {});
    this.buffer = '';
    this.reset();
  }

  reset() { this.fields = { id: null, event: 'message', data: [] }; }

  push(text) {
    this.buffer += text;
    let index;
    while ((index = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, index);
      const eol = this.buffer[index] === '\r' && this.buffer[index + 1] === '\n' ? 2 : 1;
      this.buffer = this.buffer.slice(index + eol);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      if (this.fields.data.length > 0) {
        this.onEvent({ id: this.fields.id, event: this.fields.event, data: this.fields.data.join('\n') });
      }
      this.reset();
      return;
    }
    if (line.startsWith(':')) { this.onComment(line.slice(1).trim()); return; }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'data') this.fields.data.push(value);
    else if (name === 'event') this.fields.event = value;
    else if (name === 'id') this.fields.id = value;
  }
}

/**
 * Follows GET /v1/stream with the token, reconnecting with Last-Event-ID after a drop (backoff up to 10 s).
 * `onEvent(payload, {live})`: `live` is false while the server replays history before its `: live` marker on the first
 * connection, so the console can skip what happened before it opened. `onState('live'|'connecting'|'down')`.
 */
export function followStream(api, { onEvent, onState }) {
  let lastId = null;
  let stopped = false;
  let controller = null;
  let delay = 500;
  let sawLive = false;

  async function connect() {
    while (!stopped) {
      controller = new AbortController();
      onState('connecting');
      try {
        const headers = { Authorization: `Bearer ${api.token}`, Accept: 'text/event-stream' };
        if (lastId !== null) headers['Last-Event-ID'] = lastId;
        const response = await fetch('/v1/stream', { headers, signal: controller.signal, cache: 'no-store', credentials: 'omit' });
        if (response.status === 401 || response.status === 403) { onState('down'); return; }
        if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
        const resumed = lastId !== null;
        const parser = new SSEParser(
          (message) => {
            if (message.id !== null) lastId = message.id;
            let payload = null;
            try { payload = JSON.parse(message.data); } catch { return; }
            onEvent(payload, { live: sawLive || resumed });
          },
          (comment) => {
            if (comment === 'live') { sawLive = true; delay = 500; onState('live'); }
          },
        );
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value);
        }
      } catch (error) {
        if (stopped) return;
      }
      if (stopped) return;
      onState('down');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10000);
    }
  }

  connect();
  return { stop() { stopped = true; if (controller) controller.abort(); } };
}
