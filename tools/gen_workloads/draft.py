"""A draft text: fixed opening and closing sentences around a body that can be cut to length."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Draft:
    """Sentences of one text before it is cut to its target length.

    The body is ordered so that any prefix of it reads well (the most important sentences
    first); :meth:`assemble` keeps the head, the first ``k`` body sentences and the tail.

    Attributes:
        head: sentences that always open the text.
        body: sentences in order of importance.
        tail: sentences that always close the text.
        paragraph_sizes: when set, the body is split into paragraphs of these sizes (cycled)
            and paragraphs are joined with a blank line; otherwise one paragraph.
        head_separator: what joins the head to the body ("\\n\\n" for a heading line).
        tail_separator: what joins the body to the tail.
        prefix: raw text put before everything (an instruction and a blank line, say).
        suffix: raw text put after everything.
    """

    head: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    paragraph_sizes: tuple[int, ...] = ()
    head_separator: str = " "
    tail_separator: str = " "
    prefix: str = ""
    suffix: str = ""

    def assemble(self, k: int) -> str:
        """Join the head, the first ``k`` body sentences and the tail into one text.

        Args:
            k: how many body sentences to keep.

        Returns:
            The finished text.
        """
        body = self.body[:k]
        if self.paragraph_sizes:
            paragraphs: list[str] = []
            i = 0
            j = 0
            while i < len(body):
                size = self.paragraph_sizes[j % len(self.paragraph_sizes)]
                paragraphs.append(" ".join(body[i : i + size]))
                i += size
                j += 1
            body_text = "\n\n".join(paragraphs)
        else:
            body_text = " ".join(body)
        parts = []
        if self.head:
            parts.append(" ".join(self.head))
        text = self.head_separator.join(p for p in (*parts, body_text) if p)
        if self.tail:
            text = self.tail_separator.join(p for p in (text, " ".join(self.tail)) if p)
        return self.prefix + text + self.suffix

    def fixed_parts(self) -> list[str]:
        """The pieces of text that are always kept: prefix, head, tail and suffix.

        Returns:
            The non-empty pieces, for counting tokens.
        """
        return [p for p in (self.prefix, *self.head, *self.tail, self.suffix) if p]
