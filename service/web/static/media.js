// The composer's media: drop or pick files, upload them resumably (tus), show thumbnails,
// edit alt text, reorder and remove, and say what the chosen network takes.

import { token } from "./api.js";
import { h, uid } from "./dom.js";

const UPLOADS = "/api/v1/media/uploads";
const CHUNK = 4 * 1024 * 1024;
const RETRIES = 8;
const TUS = { "Tus-Resumable": "1.0.0" };

function authHeaders(extra = {}) {
  const current = token.get();
  return { ...TUS, ...(current ? { Authorization: `Bearer ${current}` } : {}), ...extra };
}

function b64(text) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** PATCH one chunk with XMLHttpRequest (fetch reports no upload progress). */
function sendChunk(location, offset, blob, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PATCH", location);
    for (const [name, value] of Object.entries(
      authHeaders({ "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" }),
    ))
      xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(offset + event.loaded);
    xhr.onload = () => {
      if (xhr.status === 204) resolve(Number(xhr.getResponseHeader("Upload-Offset")));
      else {
        let problem = {};
        try {
          problem = JSON.parse(xhr.responseText);
        } catch {
          problem = { detail: `Handpost answered ${xhr.status}.` };
        }
        reject(Object.assign(new Error(problem.detail || "Upload refused"), { status: xhr.status, problem }));
      }
    };
    xhr.onerror = () => reject(Object.assign(new Error("The connection dropped"), { status: 0 }));
    xhr.send(blob);
  });
}

async function serverOffset(location) {
  const response = await fetch(location, { method: "HEAD", headers: authHeaders() });
  if (!response.ok) throw Object.assign(new Error("The upload is gone"), { status: response.status });
  return Number(response.headers.get("Upload-Offset"));
}

/** Upload a File with tus; resumes from the server's offset after a dropped connection. */
export async function uploadFile(file, { onProgress = () => {}, onResume = () => {} } = {}) {
  const created = await fetch(UPLOADS, {
    method: "POST",
    headers: authHeaders({ "Upload-Length": String(file.size), "Upload-Metadata": `filename ${b64(file.name)}` }),
  });
  if (created.status !== 201) {
    const problem = await created.json().catch(() => ({}));
    throw Object.assign(new Error(problem.detail || "The upload was refused"), { problem });
  }
  const location = created.headers.get("Location");
  let offset = 0;
  let failures = 0;
  while (offset < file.size) {
    try {
      offset = await sendChunk(location, offset, file.slice(offset, offset + CHUNK), onProgress);
      failures = 0;
    } catch (error) {
      if (error.status !== 0 && error.status !== 409 && error.status !== 503) throw error;
      failures += 1;
      if (failures > RETRIES) throw error;
      await sleep(Math.min(500 * 2 ** failures, 8000));
      offset = await serverOffset(location); // resume where the server has the bytes
      onResume(offset);
    }
    onProgress(offset);
  }
  const id = location.split("/").pop();
  const response = await fetch(`/api/v1/media/${id}`, { headers: authHeaders() });
  return response.json();
}

function describeLimits(info) {
  const m = info.media;
  if (!m) return "";
  const parts = [];
  if (m.max_images) parts.push(`up to ${m.max_images} image${m.max_images > 1 ? "s" : ""}`);
  if (m.max_videos) parts.push(`${m.max_videos > 1 ? `up to ${m.max_videos}` : "one"} video${m.max_videos > 1 ? "s" : ""}`);
  const mix = m.max_images && m.max_videos ? (m.mix_images_and_video ? " (mixed)" : " (not both)") : "";
  const sizes = [];
  if (m.max_image_bytes) sizes.push(`images ${m.image_formats.join("/").toUpperCase()} to ${mb(m.max_image_bytes)}`);
  if (m.max_video_bytes) sizes.push(`video ${m.video_formats.join("/").toUpperCase()} to ${mb(m.max_video_bytes)}`);
  if (m.max_video_seconds) sizes.push(`at most ${m.max_video_seconds} s`);
  return `${info.display_name} takes ${parts.join(" or ")}${mix}${sizes.length ? `; ${sizes.join(", ")}` : ""}.`;
}

function mb(bytes) {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(0)} GB` : `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

/**
 * The media part of the composer. `initial`: the post's media (PostRead.media).
 * value(): [{media_id, alt_text}] in order, finished uploads only. onChange: after any change.
 */
export function mediaEditor({ initial = [], onChange = () => {}, disabled = false } = {}) {
  const items = initial.map((m) => ({ key: uid("m"), media: { id: m.media_id, ...m }, alt: m.alt_text, state: "ready" }));
  const list = h("ol", { class: "media-list", "aria-label": "Attached files" });
  const limits = h("p", { class: "hint media-limits" });
  const input = h("input", {
    type: "file",
    multiple: true,
    accept: "image/jpeg,image/png,image/gif,image/webp,video/mp4,video/quicktime,video/webm",
    class: "visually-hidden",
    id: uid("files"),
    disabled,
  });
  const zone = h(
    "div",
    { class: "drop-zone", tabindex: "-1" },
    "Drop images or videos here, or ",
    h("label", { for: input.id, class: "media-button" }, "choose files"),
    input,
  );
  const wrap = h("section", { class: "media-editor", "aria-label": "Media" }, h("h3", {}, "Media"), zone, limits, list);

  function render() {
    list.replaceChildren(
      ...items.map((item, index) => {
        const label = item.media?.filename || item.file?.name || "file";
        const thumb = item.media?.thumbnail_url
          ? h("img", { src: item.media.thumbnail_url, alt: "", class: "media-thumb" })
          : h("div", { class: "media-thumb pending" }, item.media?.kind === "video" ? "▶" : "…");
        const progress =
          item.state === "uploading"
            ? h("progress", { max: String(item.total), value: String(item.sent), "aria-label": `Uploading ${label}` })
            : null;
        const failed = item.state === "failed" ? h("p", { class: "field-error" }, item.error) : null;
        const altId = uid("alt");
        const alt =
          item.state === "ready"
            ? [
                h("label", { for: altId }, `Alt text for ${label}`),
                h("textarea", {
                  id: altId,
                  rows: "2",
                  class: "alt-text",
                  value: item.alt || "",
                  disabled,
                  oninput: (event) => {
                    item.alt = event.target.value;
                    onChange();
                  },
                }),
              ]
            : null;
        const move = (delta) => {
          const target = index + delta;
          if (target < 0 || target >= items.length) return;
          [items[index], items[target]] = [items[target], items[index]];
          render();
          onChange();
        };
        return h(
          "li",
          { class: "media-item", dataset: { key: item.key, mediaId: item.media?.id || "" } },
          thumb,
          h("div", { class: "media-body" }, h("span", { class: "media-name" }, label), progress, failed, alt),
          h(
            "div",
            { class: "media-actions" },
            h("button", { type: "button", class: "media-button", disabled: disabled || index === 0, onclick: () => move(-1), "aria-label": `Move ${label} up` }, "↑"),
            h("button", { type: "button", class: "media-button", disabled: disabled || index === items.length - 1, onclick: () => move(1), "aria-label": `Move ${label} down` }, "↓"),
            h(
              "button",
              {
                type: "button",
                class: "media-button",
                disabled,
                "aria-label": `Remove ${label}`,
                onclick: () => {
                  items.splice(items.indexOf(item), 1);
                  render();
                  onChange();
                },
              },
              "Remove",
            ),
          ),
        );
      }),
    );
  }

  async function add(files) {
    for (const file of files) {
      const item = { key: uid("m"), file, state: "uploading", sent: 0, total: file.size, alt: "" };
      items.push(item);
      render();
      uploadFile(file, {
        onProgress: (sent) => {
          item.sent = sent;
          const bar = list.querySelector(`[data-key="${item.key}"] progress`);
          if (bar) bar.value = sent;
        },
      })
        .then((media) => {
          item.media = media;
          item.alt = media.alt_text;
          item.state = "ready";
          render();
          onChange();
        })
        .catch((error) => {
          item.state = "failed";
          item.error = `${file.name}: ${error.message}`;
          render();
        });
    }
  }

  input.addEventListener("change", () => {
    add([...input.files]);
    input.value = "";
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (!disabled) add([...event.dataTransfer.files]);
  });
  render();

  return {
    wrap,
    value: () =>
      items.filter((i) => i.state === "ready").map((i) => ({ media_id: i.media.id, alt_text: i.alt || "" })),
    uploading: () => items.some((i) => i.state === "uploading"),
    setNetwork: (info) => {
      limits.textContent = describeLimits(info);
    },
  };
}
