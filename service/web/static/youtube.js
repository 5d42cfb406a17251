/**
 * A YouTube post's own fields in the composer: tags, category and YouTube's release time.
 * The title is the post's title, the description its text, the privacy its visibility.
 * What the fields allow comes from GET /networks (the network's `video` section).
 */
import { field, h, select } from "./dom.js";

export function youtubeFields({ initial, onChange }) {
  const tags = field({
    label: "Tags",
    optional: true,
    control: h("input", {
      name: "youtube.tags",
      value: (initial?.tags ?? []).join(", "),
      placeholder: "release engineering, talks",
    }),
    hint: "Separated by commas.",
  });
  const category = field({ label: "Category", control: select([], { name: "youtube.category_id" }) });
  const release = field({
    label: "YouTube makes it public at",
    optional: true,
    control: h("input", {
      name: "youtube.publish_at",
      type: "datetime-local",
      value: initial?.publish_at ? localInput(initial.publish_at) : "",
    }),
    hint:
      "YouTube's own release: the video is uploaded private at the post's time and made " +
      "public by YouTube at this time (in this browser's time zone). Needs “Private”.",
  });
  const wrap = h(
    "fieldset",
    { class: "plain youtube-fields", hidden: true },
    h("legend", {}, "YouTube"),
    h("div", { class: "row" }, category.wrap, release.wrap),
    tags.wrap,
  );
  for (const f of [tags, category, release]) {
    f.control.addEventListener("input", onChange);
    f.control.addEventListener("change", onChange);
  }
  let shown = false;

  return {
    wrap,
    byName: { "youtube.tags": tags, "youtube.category_id": category, "youtube.publish_at": release },
    /** Show the fields for a YouTube account (``info.video`` set), hide them otherwise. */
    setNetwork(info) {
      shown = Boolean(info.video);
      wrap.hidden = !shown;
      if (!shown) return;
      const keep = category.control.value || initial?.category_id || info.video.default_category;
      category.control.replaceChildren(
        ...info.video.categories.map((c) =>
          h("option", { value: c.id, selected: c.id === keep }, c.name),
        ),
      );
      tags.hint.textContent = `Separated by commas; ${info.video.tags_limit} characters in all.`;
    },
    /** The `youtube` object of the request, or undefined for another network. */
    value() {
      if (!shown) return undefined;
      const list = tags.control.value
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean);
      const at = release.control.value;
      return {
        tags: list,
        category_id: category.control.value || null,
        publish_at: at ? new Date(at).toISOString() : null,
      };
    },
  };
}

function localInput(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
