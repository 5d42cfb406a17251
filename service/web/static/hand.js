// Posts due by hand: everything it takes to publish one where Handpost has no API, on one card.

import { markPublished, skipPost } from "./actions.js";
import { h, uid } from "./dom.js";
import { formatDateTime } from "./format.js";
import * as store from "./store.js";
import { copyToClipboard, networkBadge } from "./ui.js";

function selectText(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  window.getSelection().removeAllRanges();
  window.getSelection().addRange(range);
}

/** The "Due by hand" section of the queue, or null when nothing is due. */
export function dueByHandSection(items, { tz, done }) {
  if (!items.length) return null;
  return h(
    "section",
    { class: "due-by-hand", "aria-labelledby": "due-by-hand-title" },
    h("h2", { id: "due-by-hand-title", tabindex: "-1" }, "Due now — publish by hand"),
    h("ul", { class: "cards" }, items.map((item) => dueCard(item, tz, done))),
  );
}

function dueCard(item, tz, done) {
  const { post, account } = item;
  const network = store.networkName(account.network);
  const titleId = uid("due");
  const text = h("p", { class: "post-text copy-source" }, item.copy_text);
  const act = (label, action, cls) =>
    h(
      "button",
      {
        type: "button",
        class: cls,
        "aria-describedby": titleId,
        onclick: async () => {
          if (await action(post.id, { byHand: true })) await done(post.id);
        },
      },
      label,
    );
  return h(
    "li",
    {},
    h(
      "article",
      { class: `post-card due-card net-edge-${account.network}`, dataset: { post: post.id } },
      h(
        "h3",
        { id: titleId, class: "post-card-title" },
        h("time", { datetime: post.scheduled_at || "" }, formatDateTime(post.scheduled_at, tz)),
        " ",
        networkBadge(account.network, network),
        " ",
        h("span", { class: "handle" }, account.display_name || account.handle),
      ),
      h(
        "p",
        { class: "audience" },
        h("strong", {}, "Audience: "),
        item.audience || h("span", { class: "hint" }, "not given — check who should see it"),
      ),
      text,
      item.media.length
        ? h(
            "ul",
            { class: "media-downloads", "aria-label": "Files to attach" },
            item.media.map((m) =>
              h(
                "li",
                {},
                m.download_url ? h("a", { href: m.download_url, download: m.filename }, `Download ${m.filename}`) : m.filename,
                m.alt_text ? h("span", { class: "hint" }, ` — alt text: ${m.alt_text}`) : null,
              ),
            ),
          )
        : null,
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            class: "small primary",
            "aria-describedby": titleId,
            onclick: () =>
              copyToClipboard(item.copy_text, () => selectText(text), "Copied. Paste it into the composer."),
          },
          "Copy text",
        ),
        item.composer_url
          ? h(
              "a",
              {
                href: item.composer_url,
                target: "_blank",
                rel: "noopener noreferrer",
                class: "button small secondary",
                "aria-describedby": titleId,
              },
              `Open ${network}`,
            )
          : null,
        act("Mark published", markPublished, "small primary"),
        act("Skip", skipPost, "small danger-outline"),
      ),
      item.missed_at
        ? h("p", { class: "hint" }, `Counts as missed if not marked by ${formatDateTime(item.missed_at, tz)}.`)
        : null,
    ),
  );
}
