// The live stream (GET api/stream, Server-Sent Events): one "batch" message per pipeline
// batch, {"events":[...],"alarms":[...]}. When the stream (re)opens, or when a batch id
// shows that batches were missed, the page reloads what it shows from the JSON API.

const RETRY_AFTER_REFUSAL_MS = 5000;

// connectLive keeps a stream open and reports to the callbacks:
//   onOpen()        the stream opened: reload everything shown (batches may have been missed)
//   onBatch(batch)  a batch arrived
//   onGap()         batches were missed: reload everything shown
// status is the element that tells the operator whether the page is live.
export function connectLive(status, {onOpen, onBatch, onGap}) {
  let lastID = null;
  let retry = null;

  const setStatus = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
  };

  const open = () => {
    retry = null;
    const es = new EventSource(new URL('api/stream', document.baseURI));
    es.addEventListener('open', () => {
      lastID = null;
      setStatus('open', 'Live');
      onOpen();
    });
    es.addEventListener('batch', (msg) => {
      const id = Number(msg.lastEventId);
      if (lastID !== null && Number.isFinite(id) && id !== lastID + 1) onGap();
      lastID = id;
      let batch;
      try {
        batch = JSON.parse(msg.data);
      } catch {
        onGap();
        return;
      }
      onBatch({events: batch.events || [], alarms: batch.alarms || []});
    });
    es.addEventListener('error', () => {
      if (es.readyState === EventSource.CLOSED) {
        // Refused (503: too many streams, the daemon stopping) or not a stream at all:
        // EventSource gives up on its own, so try again later.
        setStatus('closed', 'Live: offline, retrying');
        es.close();
        if (retry === null) retry = setTimeout(open, RETRY_AFTER_REFUSAL_MS);
      } else {
        setStatus('connecting', 'Live: reconnecting');
      }
    });
  };
  open();
}
