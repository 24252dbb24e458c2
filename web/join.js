// Chorus browser page: joining a room with camera and microphone over SIP over WebSocket (RFC 7118)
// with JsSIP, served by chorusd at /vendor/jssip.min.js. The pure decisions (URL, offer plan, slot
// maps, refusal texts) are ChorusCall's (call.js); this file wires them to the DOM, JsSIP and the
// RTCPeerConnection JsSIP makes.
//
// One call at a time: `current` holds it from the Join click until it has ended and been cleaned
// up. Every JsSIP and WebRTC callback checks that its call is still `current`, so a late event of
// an ended call changes nothing on the page.
"use strict";

function initJoin() {
  const C = ChorusCall;
  const $ = (id) => document.getElementById(id);
  const kConnectTimeoutMs = 10000;
  const kIceGatherWaitMs = 1000;  // chorusd is ICE-lite: host candidates are enough to send the offer
  const kPinAnswerWaitMs = 4000;
  const params = C.parseJoinParams(window.location.search);
  let current = null;
  let unavailable = "";

  // ---- Page state ----

  function say(text) {
    $("call-state").textContent = text;
  }

  // Where the call is: starting (camera, microphone), connecting (WebSocket), calling (INVITE
  // sent), early (the room plays a message before answering), up (answered), ended. Kept on the
  // call section as data-phase for styling and for the browser tests.
  function setPhase(call, phase) {
    if (call !== current) return;
    call.phase = phase;
    $("call").dataset.phase = phase;
  }

  function showFieldError(field, text) {
    const error = $(`${field}-error`);
    error.textContent = text;
    error.hidden = !text;
    if (text) $(field).setAttribute("aria-invalid", "true");
    else $(field).removeAttribute("aria-invalid");
  }

  // Back to the form with `text` (an error or how the call ended), which takes focus so a screen
  // reader reads it.
  function showJoinMessage(text, isError) {
    const message = $("join-message");
    message.textContent = text;
    message.hidden = !text;
    message.className = isError ? "form-error" : "notice";
    if (text) message.focus();
  }

  function setInCall(inCall) {
    document.body.classList.toggle("in-call", inCall);
    $("call").hidden = !inCall;
    $("join-panel").hidden = inCall;
    $("manage").hidden = inCall;
    $("join-submit").disabled = false;
  }

  function markUnavailable(text) {
    unavailable = text;
    const note = $("join-unavailable");
    note.textContent = `Joining is unavailable: ${text}`;
    note.hidden = false;
    $("join-submit").disabled = true;
  }

  // ---- Media ----

  // Camera and microphone; without a camera (none, or refused) the call goes on with the
  // microphone alone and says so. No microphone: no call.
  async function openMedia() {
    const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
    try {
      return { stream: await navigator.mediaDevices.getUserMedia({ audio: true, video }), note: "" };
    } catch (error) {
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
        return { stream, note: `Joining without camera (${error.name || "unavailable"}).` };
      } catch (audioError) {
        return { error: `The browser did not give the microphone (${audioError.name || audioError.message}).` };
      }
    }
  }

  // ---- Tiles ----

  function makeSlotTile(index, transceiver) {
    const tile = $("tile-template").content.firstElementChild.cloneNode(true);
    tile.dataset.slot = String(index);
    const video = tile.querySelector("video");
    const track = transceiver.receiver.track;
    video.srcObject = new MediaStream([track]);
    // No RTP (an empty slot, or a sender whose camera is off) mutes the track: dark either way.
    track.addEventListener("mute", () => renderTiles(current));
    track.addEventListener("unmute", () => renderTiles(current));
    $("tiles").appendChild(tile);
    return { tile, video, track, transceiver };
  }

  // The slot tiles from the call's slot state: a slot with nobody, or with nobody's video
  // arriving, shows a neutral placeholder instead of its video element. Until a slot map comes
  // a slot shows whatever video arrives: an mcu room sends none, its one slot is the room's
  // composite picture (the names are drawn in it).
  function renderTiles(call) {
    if (!call || call !== current) return;
    const tiles = C.slotTiles(call.slotState, call.slots.map((slot) => slot.transceiver.mid));
    const unmapped = call.slotState.version < 0;
    tiles.forEach((view, index) => {
      const slot = call.slots[index];
      // A slot the answer rejected (port 0: a room without video) will never show anyone.
      slot.tile.hidden = slot.transceiver.currentDirection === "stopped";
      const dark = !(view.occupied || unmapped) || slot.track.muted;
      slot.tile.classList.toggle("dark", dark);
      slot.tile.dataset.mid = view.mid || "";
      slot.tile.dataset.participantId = view.participantId === null ? "" : String(view.participantId);
      slot.video.hidden = dark;
      slot.tile.querySelector(".tile-label").textContent = view.label;
      slot.tile.querySelector(".placeholder span").textContent =
        view.occupied ? `${view.label}: no video` : "Empty";
      slot.tile.setAttribute("aria-label",
        view.occupied ? `${view.label}${dark ? " (no video)" : ""}` : dark ? "Empty slot" : "The room's video");
    });
  }

  function clearTiles() {
    for (const tile of [...$("tiles").querySelectorAll(".tile.slot")]) tile.remove();
    $("self-video").srcObject = null;
    $("remote-audio").srcObject = null;
  }

  // ---- The RTCPeerConnection JsSIP made: the offer's transceivers (call.js transceiverPlan) ----

  function addTransceivers(call, pc) {
    const plan = C.transceiverPlan(call.slotCount, { camera: Boolean(call.camera) });
    for (const line of plan) {
      if (line.role === "microphone") {
        call.audio = pc.addTransceiver(call.microphone, { direction: "sendrecv", streams: [call.stream] });
        $("remote-audio").srcObject = new MediaStream([call.audio.receiver.track]);
      } else if (line.role === "camera") {
        call.cameraTransceiver = pc.addTransceiver(call.camera, {
          direction: "sendonly", streams: [call.stream], sendEncodings: line.sendEncodings,
        });
      } else {
        call.slots.push(makeSlotTile(line.slot, pc.addTransceiver("video", { direction: "recvonly" })));
      }
    }
    pc.addEventListener("connectionstatechange", () => {
      if (call !== current) return;
      if (pc.connectionState === "connected") {
        if (call.phase === "up") say(call.admissionNote || "Connected.");
        else say(`Room ${call.room} is answering with a message…`);
      }
      else if (pc.connectionState === "failed") say("The media connection failed.");
      else if (pc.connectionState === "disconnected") say("The media connection is interrupted…");
    });
    // The answer names each transceiver's mid: the slot map can be matched now.
    pc.addEventListener("signalingstatechange", () => {
      renderTiles(call);
      const camera = call.cameraTransceiver;
      if (call === current && camera && camera.currentDirection === "stopped") {
        $("self-label").textContent = `You (${call.name}) · this room takes no video`;
      }
    });
    renderTiles(call);
  }

  // ---- PIN ----

  function openPinDialog(call, message) {
    const dialog = $("pin-dialog");
    $("pin-submit").disabled = false;
    $("pin").disabled = false;
    showFieldError("pin", message || "");
    if (!dialog.open) dialog.showModal();
    $("pin").focus();
    call.pinDialogShown = true;
  }

  function closePinDialog() {
    const dialog = $("pin-dialog");
    if (dialog.open) dialog.close();
    $("pin").value = "";
  }

  function sendPin(event) {
    event.preventDefault();
    const call = current;
    if (!call || !call.session) return;
    const checked = C.pinToDtmf($("pin").value);
    if (checked.error) {
      showFieldError("pin", checked.error);
      $("pin").focus();
      return;
    }
    try {
      // RFC 6086 INFO with application/dtmf-relay; chorusd also takes RFC 4733 tones.
      call.session.sendDTMF(checked.dtmf, { transportType: "INFO", duration: 100, interToneGap: 70 });
    } catch (error) {
      showFieldError("pin", `Could not send the PIN: ${error.message}`);
      return;
    }
    call.pinTries += 1;
    call.awaitingPin = true;
    $("pin").value = "";
    $("pin").disabled = true;
    $("pin-submit").disabled = true;
    showFieldError("pin", "");
    $("pin-help").textContent = "Checking the PIN…";
    clearTimeout(call.pinTimer);
    call.pinTimer = setTimeout(() => {
      if (call === current && call.awaitingPin && call.slotState.admission === "pin_required") {
        call.awaitingPin = false;
        $("pin-help").textContent = "Type the room's PIN; it is sent to the room as keypad tones.";
        openPinDialog(call, "No answer to the PIN yet. If it was wrong, try again.");
      }
    }, kPinAnswerWaitMs);
  }

  // ---- The slot map (INFO from chorusd) ----

  function applyAdmission(call, previous) {
    const admission = call.slotState.admission;
    call.admissionNote = C.admissionText(admission);
    if (admission === "pin_required") {
      // A slot map that still wants a PIN after one was sent answers it: that PIN was wrong.
      const retry = Boolean(call.awaitingPin);
      call.awaitingPin = false;
      $("pin-help").textContent = "Type the room's PIN; it is sent to the room as keypad tones.";
      if (!call.pinDialogShown || retry) openPinDialog(call, retry ? "That PIN was not accepted. Try again." : "");
    } else {
      call.awaitingPin = false;
      clearTimeout(call.pinTimer);
      closePinDialog();
    }
    if (admission !== previous) say(call.admissionNote);
  }

  function onInfo(call, event) {
    if (call !== current || event.originator !== "remote") return;
    const request = event.request;
    const infoPackage = request && request.hasHeader("Info-Package") ? request.getHeader("Info-Package") : "";
    const parsed = C.parseSlotInfo(event.info.contentType, infoPackage, event.info.body);
    if (parsed.ignore) return;
    if (parsed.error) {
      console.warn(`Chorus: slot map ignored: ${parsed.error}`);
      return;
    }
    const previous = call.slotState.admission;
    const next = C.reduceSlotMap(call.slotState, parsed.map);
    if (next === call.slotState) return;
    call.slotState = next;
    renderTiles(call);
    if (next.admission !== previous || next.admission === "pin_required") applyAdmission(call, previous);
  }

  // ---- Controls ----

  function setMicMuted(call, muted) {
    call.microphone.enabled = !muted;
    const button = $("toggle-mic");
    button.setAttribute("aria-pressed", String(muted));
    button.textContent = muted ? "Unmute microphone" : "Mute microphone";
    $("self-tile").classList.toggle("muted", muted);
  }

  // Camera off replaces the sent track with none, so no black frames are forwarded; the preview
  // shows the placeholder. On again puts the same camera track back.
  async function setCameraOff(call, off) {
    const button = $("toggle-camera");
    if (!call.cameraTransceiver) return;
    button.disabled = true;
    try {
      await call.cameraTransceiver.sender.replaceTrack(off ? null : call.camera);
      call.camera.enabled = !off;
      call.cameraOff = off;
      button.setAttribute("aria-pressed", String(off));
      button.textContent = off ? "Turn camera on" : "Turn camera off";
      $("self-tile").classList.toggle("dark", off);
      $("self-video").hidden = off;
    } catch (error) {
      say(`Could not switch the camera: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  }

  function resetControls() {
    $("toggle-mic").setAttribute("aria-pressed", "false");
    $("toggle-mic").textContent = "Mute microphone";
    $("toggle-camera").setAttribute("aria-pressed", "false");
    $("toggle-camera").textContent = "Turn camera off";
    $("toggle-keypad").setAttribute("aria-expanded", "false");
    $("keypad").hidden = true;
    $("self-tile").classList.remove("muted", "dark");
    $("self-video").hidden = false;
  }

  function sendTone(tone) {
    const call = current;
    if (!call || !call.session || !call.session.isEstablished()) return;
    try {
      call.session.sendDTMF(tone, { transportType: "INFO", duration: 100, interToneGap: 70 });
      say(`Sent ${tone}.`);
    } catch (error) {
      say(`Could not send ${tone}: ${error.message}`);
    }
  }

  // ---- Chat (SIP MESSAGE in the call's dialog; web/README.md "Chat") ----

  // One line of the chat log, text only (textContent: a sender cannot inject markup).
  function addChatLine(sender, text, origin) {
    const line = document.createElement("li");
    line.className = "chat-line";
    line.dataset.origin = origin;
    if (sender) {
      const who = document.createElement("span");
      who.className = "chat-sender";
      who.textContent = sender;
      line.append(who, " ");
    }
    const words = document.createElement("span");
    words.className = "chat-text";
    words.textContent = text;
    line.append(words);
    $("chat-log").append(line);
    line.scrollIntoView({ block: "nearest" });
  }

  function showChatError(text) {
    $("chat-error").textContent = text;
    $("chat-error").hidden = !text;
    $("chat-text").setAttribute("aria-invalid", text ? "true" : "false");
  }

  // JsSIP's UA 'newMessage' (in-dialog MESSAGE from the room; JsSIP answers 200 itself).
  function onChatMessage(call, event) {
    if (call !== current || event.originator !== "remote") return;
    const request = event.request;
    const parsed = C.parseChatMessage(request.getHeader("Content-Type"), request.body);
    if (parsed) addChatLine(parsed.sender, parsed.text, "remote");
  }

  function sendChat(event) {
    event.preventDefault();
    const call = current;
    if (!call || !call.session || !call.session.isEstablished()) return;
    const checked = C.checkChatText($("chat-text").value);
    if (checked.error) return showChatError(checked.error);
    showChatError("");
    const body = C.chatCpim({ name: call.name, uri: call.uri, roomUri: call.roomUri, at: new Date(), text: checked.text });
    // RFC 3428 inside the call's dialog: the server knows the sender by its call.
    call.session.sendRequest(JsSIP.C.MESSAGE, {
      extraHeaders: [`Content-Type: ${C.kChatCpimType}`],
      body,
      eventHandlers: {
        onSuccessResponse: () => {
          if (call !== current) return;
          addChatLine("You", checked.text, "self");
          if ($("chat-text").value.trimEnd() === checked.text) $("chat-text").value = "";
        },
        onErrorResponse: (response) => {
          const retry = response.hasHeader("Retry-After") ? response.getHeader("Retry-After") : "";
          if (call === current) showChatError(C.chatRefusal(response.status_code, retry));
        },
        onRequestTimeout: () => call === current && showChatError("The room did not answer; the message may be lost."),
        onTransportError: () => call === current && showChatError("The message could not be sent (connection lost)."),
      },
    });
  }

  function setChatEnabled(enabled) {
    $("chat-send").disabled = !enabled;
    if (!enabled) showChatError("");
  }

  // ---- Ending ----

  function finish(call, text, isError) {
    if (call !== current) return;
    setPhase(call, "ended");
    current = null;
    clearTimeout(call.pinTimer);
    clearTimeout(call.iceTimer);
    closePinDialog();
    for (const track of call.stream ? call.stream.getTracks() : []) track.stop();
    try {
      if (call.ua) call.ua.stop();
    } catch (ignored) {
      // the UA is gone either way
    }
    clearTiles();
    setChatEnabled(false);
    setInCall(false);
    showJoinMessage(text, isError);
  }

  function leave() {
    const call = current;
    if (!call) return;
    say("Leaving…");
    try {
      if (call.session && !call.session.isEnded()) {
        call.session.terminate();
        return;  // 'ended' or 'failed' finishes
      }
    } catch (error) {
      // terminate() throws when the session is already over: finish below
    }
    finish(call, "You left the room.", false);
  }

  // ---- The call ----

  async function loadClientConfig() {
    const response = await fetch("/client-config.json", { cache: "no-store", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`the server answered ${response.status} for /client-config.json`);
    return response.json();
  }

  // Resolves when the WebSocket is up; rejects on the first failure or after kConnectTimeoutMs
  // (JsSIP would keep retrying in the background: finish() stops it).
  function connect(ua) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no answer from the server's SIP WebSocket")), kConnectTimeoutMs);
      ua.on("connected", () => {
        clearTimeout(timer);
        resolve();
      });
      ua.on("disconnected", (event) => {
        clearTimeout(timer);
        reject(new Error(event && event.error ? "the server's SIP WebSocket refused the connection" : "the WebSocket closed"));
      });
      ua.start();
    });
  }

  function onFailed(call, event) {
    if (call !== current) return;
    if (event.originator === "local" && event.cause === "Canceled") return finish(call, "You left the room.", false);
    const response = event.originator === "remote" ? event.message : null;
    if (response && response.status_code) {
      const warning = response.hasHeader("Warning") ? response.getHeader("Warning") : "";
      finish(call, C.refusalMessage(response.status_code, response.reason_phrase, warning), true);
    } else {
      finish(call, C.failureMessage(event.cause), true);
    }
  }

  function onEnded(call, event) {
    if (call !== current) return;
    const request = event.message;
    const reason = request && request.hasHeader && request.hasHeader("Reason") ? request.getHeader("Reason") : "";
    const ended = C.endedMessage({
      originator: event.originator, cause: event.cause, reason, admission: call.slotState.admission, pinTries: call.pinTries,
    });
    finish(call, ended.message, event.originator !== "local");
  }

  function sessionHandlers(call) {
    return {
      peerconnection: (event) => {
        if (call === current) addTransceivers(call, event.peerconnection);
      },
      // Send the offer once there are host candidates rather than waiting for gathering to end.
      icecandidate: (event) => {
        if (!call.iceTimer) call.iceTimer = setTimeout(() => event.ready(), kIceGatherWaitMs);
      },
      sending: () => say(`Calling room ${call.room}…`),
      progress: (event) => {
        // A 183 with an answer is early media: the room speaks (a prompt) before it answers.
        if (event.response && event.response.body) setPhase(call, "early");
        say(`Room ${call.room} is answering…`);
      },
      accepted: () => say("Connected; setting up audio and video…"),
      confirmed: () => {
        if (call !== current) return;
        setPhase(call, "up");
        setChatEnabled(true);
        say(call.admissionNote || "Connected.");
        $("call-heading").focus();
      },
      newInfo: (event) => onInfo(call, event),
      failed: (event) => onFailed(call, event),
      ended: (event) => onEnded(call, event),
    };
  }

  async function startCall(call) {
    const media = await openMedia();
    if (call !== current) return;
    if (media.error) return finish(call, media.error, true);
    call.stream = media.stream;
    call.microphone = media.stream.getAudioTracks()[0];
    call.camera = media.stream.getVideoTracks()[0] || null;
    if (call.camera) $("self-video").srcObject = new MediaStream([call.camera]);
    $("self-tile").classList.toggle("dark", !call.camera);
    $("self-video").hidden = !call.camera;
    $("toggle-camera").disabled = !call.camera;
    if (media.note) say(media.note);

    setPhase(call, "connecting");
    say("Connecting to the server…");
    const socket = C.chooseSocket(await loadClientConfig(), window.location.protocol);
    if (call !== current) return;
    if (socket.error) return finish(call, socket.error, true);
    const random = new Uint8Array(8);
    crypto.getRandomValues(random);
    call.uri = `sip:${C.randomUser(random)}@${socket.domain}`;
    call.roomUri = C.roomUri(call.room, socket.domain);
    call.ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(socket.url)],
      uri: call.uri,
      display_name: call.name,
      register: false,
      user_agent: "Chorus web page (JsSIP)",
    });
    call.ua.on("newMessage", (event) => onChatMessage(call, event));
    await connect(call.ua);
    if (call !== current) return;
    setPhase(call, "calling");
    say(`Calling room ${call.room}…`);
    call.session = call.ua.call(C.roomUri(call.room, socket.domain), {
      // The page adds its own tracks in the 'peerconnection' handler (transceiverPlan).
      mediaConstraints: { audio: false, video: false },
      pcConfig: { bundlePolicy: "max-bundle", rtcpMuxPolicy: "require", iceServers: [] },
      // RFC 6086 §5.2.3: the page takes the slot map as INFO.
      extraHeaders: [`Recv-Info: ${C.kSlotInfoPackage}`],
      eventHandlers: sessionHandlers(call),
    });
    call.ua.on("disconnected", () => {
      if (call === current && call.session && call.session.isEstablished()) say("Lost the connection to the server…");
    });
  }

  function join(room, name) {
    const call = {
      room, name, slotCount: params.slots, slots: [], slotState: C.kInitialSlotState, pinTries: 0,
      pinDialogShown: false, awaitingPin: false, admissionNote: "", cameraOff: false,
    };
    current = call;
    showJoinMessage("", false);
    $("call-room").textContent = room;
    $("self-label").textContent = `You (${name})`;
    resetControls();
    $("chat-log").replaceChildren();  // a new call starts a new chat
    setInCall(true);
    setPhase(call, "starting");
    say("Starting camera and microphone…");
    $("call-heading").focus();
    startCall(call).catch((error) => finish(call, `Could not join: ${error.message}.`, true));
  }

  function submitJoin(event) {
    event.preventDefault();
    showFieldError("join-room", "");
    showFieldError("join-name", "");
    if (unavailable) return;
    const checked = C.checkJoinForm({ room: $("join-room").value, name: $("join-name").value });
    if (checked.errors) {
      for (const { field, message } of checked.errors) showFieldError(field, message);
      $(checked.errors[0].field).focus();
      return;
    }
    $("join-submit").disabled = true;
    join(checked.room, checked.name);
  }

  // ---- Wiring ----

  $("join-room").value = params.room;
  $("join-name").value = params.name;
  if (params.notes.length > 0) showJoinMessage(params.notes.join(" "), false);
  $("join-form").addEventListener("submit", submitJoin);
  $("leave").addEventListener("click", leave);
  $("toggle-mic").addEventListener("click", () => {
    if (current && current.microphone) setMicMuted(current, current.microphone.enabled);
  });
  $("toggle-camera").addEventListener("click", () => {
    if (current) setCameraOff(current, !current.cameraOff);
  });
  $("toggle-keypad").addEventListener("click", () => {
    const open = $("keypad").hidden;
    $("keypad").hidden = !open;
    $("toggle-keypad").setAttribute("aria-expanded", String(open));
  });
  for (const key of $("keypad").querySelectorAll("button[data-tone]")) {
    key.addEventListener("click", () => sendTone(key.dataset.tone));
  }
  $("pin-form").addEventListener("submit", sendPin);
  $("chat-form").addEventListener("submit", sendChat);
  $("pin-cancel").addEventListener("click", closePinDialog);
  window.addEventListener("pagehide", () => {
    if (current && current.session && !current.session.isEnded()) current.session.terminate();
  });

  if (typeof JsSIP === "undefined") {
    markUnavailable("JsSIP is not installed on this server (run npm ci --prefix web there).");
  } else if (!window.RTCPeerConnection || !navigator.mediaDevices) {
    // Camera and microphone exist only in a secure context: https, or http from this machine.
    markUnavailable(window.isSecureContext
      ? "this browser has no WebRTC."
      : "camera and microphone need a secure page: open it over https, or as localhost on the server itself.");
  } else {
    loadClientConfig().then((config) => {
      const socket = C.chooseSocket(config, window.location.protocol);
      if (socket.error) markUnavailable(socket.error);
    }, (error) => markUnavailable(`the server's settings could not be read (${error.message}).`));
  }
  if (params.room && params.name && !unavailable) $("join-submit").focus();
  else if (params.room) $("join-name").focus();
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initJoin);
  else initJoin();
}
