"""The Label Studio labelling interface, generated from ``mindlens.taxonomy``.

Never edit ``label_studio/config.xml`` by hand: a unit test compares it with
``label_config()``, so a taxonomy change must be followed by ``mindlens labels config``.
Label values are technique ids (not names) so that pulled annotations map 1:1 onto
the taxonomy; the human-readable name and definition appear as the hover hint.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from mindlens import taxonomy
from mindlens.config import RESOURCE_ROOT

CONFIG_PATH = RESOURCE_ROOT / "label_studio" / "config.xml"

# Control tag names, shared with ``sync`` (pushed predictions and pulled annotations).
TEXT = "text"
TECHNIQUE = "technique"  # span labels: one per technique id
DOCUMENT = "document"  # whole-text techniques (no single span carries them)
CLICKBAIT = "clickbait"  # the title's verdict
VERDICT = "verdict"  # an explicit "nothing here", so a clean text is a real negative
NOTE = "note"
FEEDBACK = "feedback"  # feedback review: what the user said (read-only text)
CLICKBAIT_YES, CLICKBAIT_NO = "clickbait", "not clickbait"
NO_TECHNIQUE = "no technique"
# Whole-text choices exclude clickbait: that one has its own title control.
DOCUMENT_TECHNIQUES = tuple(t for t in taxonomy.TECHNIQUES if t.id != "clickbait")


def _hint(t: taxonomy.Technique) -> str:
    return f"{t.name}: {t.definition} Example: {t.example}"


def label_config() -> str:
    """The labelling XML (deterministic, so the checked-in copy can be compared)."""
    labels = "\n".join(
        f"    <Label value={quoteattr(t.id)} background={quoteattr(t.color)} hint={quoteattr(_hint(t))}/>"
        for t in taxonomy.TECHNIQUES
    )
    documents = "\n".join(
        f"      <Choice value={quoteattr(t.id)} hint={quoteattr(_hint(t))}/>" for t in DOCUMENT_TECHNIQUES
    )
    return f"""<View>
  <!-- Generated from mindlens.taxonomy by `mindlens labels config`; do not edit by hand. -->
  <Header value="$title"/>
  <Labels name="{TECHNIQUE}" toName="{TEXT}">
{labels}
  </Labels>
  <Text name="{TEXT}" value="$text" granularity="symbol"/>
  <View style="display: flex; gap: 2em; flex-wrap: wrap">
    <View>
      <Header value="Title" size="5"/>
      <Choices name="{CLICKBAIT}" toName="{TEXT}" choice="single" showInline="true">
        <Choice value="{CLICKBAIT_YES}"/>
        <Choice value="{CLICKBAIT_NO}"/>
      </Choices>
    </View>
    <View>
      <Header value="Verdict" size="5"/>
      <Choices name="{VERDICT}" toName="{TEXT}" choice="single" showInline="true">
        <Choice value="{NO_TECHNIQUE}" hint="The text uses none of the techniques."/>
      </Choices>
    </View>
  </View>
  <Header value="Whole-text techniques (no single span carries them)" size="5"/>
  <Choices name="{DOCUMENT}" toName="{TEXT}" choice="multiple" showInline="true">
{documents}
  </Choices>
  <Header value="Note" size="5"/>
  <TextArea name="{NOTE}" toName="{TEXT}" rows="2" maxSubmissions="1" editable="true"/>
</View>
"""


_NOTE_HEADER = '  <Header value="Note" size="5"/>\n'


def feedback_label_config() -> str:
    """The feedback-review project's XML: the same labels, plus what the user reported
    (judgement, corrections, comment) shown above the note. Its two pre-annotations are
    the model's prediction at the time and the user's correction of it."""
    shown = (
        f'  <Header value="What the user reported" size="5"/>\n'
        f'  <Text name="{FEEDBACK}" value="${FEEDBACK}"/>\n'
    )
    config = label_config()
    if config.count(_NOTE_HEADER) != 1:
        raise RuntimeError("label_config() changed: place the feedback view anew")
    return config.replace(_NOTE_HEADER, shown + _NOTE_HEADER)


def write_config(path: Path = CONFIG_PATH) -> Path:
    """Write the generated XML (to ``label_studio/config.xml`` by default)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(label_config(), encoding="utf-8")
    return path
