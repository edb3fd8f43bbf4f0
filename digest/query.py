"""The watchlist language: a tokenizer and a recursive-descent parser into a small tree.

Grammar (operators in capitals; lowercase "and"/"or" are ordinary words)::

    or_expr  := and_expr (OR and_expr)*
    and_expr := unary ((AND unary) | (NOT near))*      "a NOT b" means a and not b
    unary    := NOT unary | near
    near     := primary (NEAR[/n] primary)*            plain NEAR is NEAR/10
    primary  := "(" or_expr ")" | title: primary | word+ | "quoted" | /regex/

Consecutive words form one phrase; a phrase's last word may end in ``*`` (a prefix).
``title:`` scopes the phrase, quoted phrase, regex or group right after it. Every error
is a QueryError with the 0-based position in the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import regex  # type: ignore[import-untyped]  # user patterns: backtracking-safe, timeouts

from digest.errors import QueryError
from digest.models import Field
from digest.normalize import normalize

DEFAULT_NEAR = 10
MIN_PREFIX = 2
_QUOTES = {'"': '"', "\u201c": "\u201d", "\u201e": "\u201d"}
_WORD_END = set('()"\u201c\u201d\u201e') | {" ", "\t", "\n", "\r"}
_NEAR = re.compile(r"NEAR(?:/(\S*))?\Z")
_REPEAT = re.compile(r"\{(\d*)(,?)(\d*)\}")

TokenKind = Literal["(", ")", "word", "quoted", "regex", "AND", "OR", "NOT", "NEAR", "title", "end"]


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str  # the token's source text (for words: the word; quoted: the inside)
    position: int
    end: int
    distance: int = 0  # NEAR only


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words in order. ``exact``: quoted, no plural/possessive variants; ``prefix``: the last
    word is a prefix; ``capitals[i]``: word i was written as 2–5 capitals (an acronym)."""

    words: tuple[str, ...]  # normalized
    written: str
    exact: bool = False
    prefix: bool = False
    capitals: tuple[bool, ...] = ()
    field: Field | None = None


@dataclass(frozen=True, slots=True)
class Regex:
    pattern: regex.Pattern  # compiled by the `regex` module; match with a timeout
    written: str
    field: Field | None = None


@dataclass(frozen=True, slots=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class Near:
    left: Node
    right: Node
    distance: int


Node = Phrase | Regex | And | Or | Not | Near


def parse(query: str) -> Node:
    """Parse one expression; raise QueryError (with position) when it is malformed."""
    return _Parser(query, tokenize(query)).parse()


def atoms(node: Node) -> list[Phrase | Regex]:
    """Every phrase and regex in the tree, left to right."""
    if isinstance(node, Phrase | Regex):
        return [node]
    if isinstance(node, Not):
        return atoms(node.child)
    return atoms(node.left) + atoms(node.right)


# --- tokenizer ------------------------------------------------------------------------------


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(Token(char, char, i, i + 1))  # type: ignore[arg-type]
            i += 1
        elif char in _QUOTES:
            token = _quoted(query, i)
            tokens.append(token)
            i = token.end
        elif char == "/":
            token = _regex(query, i)
            tokens.append(token)
            i = token.end
        elif char == "\u201d":
            raise QueryError("closing quote without an opening one", query=query, position=i)
        else:
            i = _word(query, i, tokens)
    tokens.append(Token("end", "", len(query), len(query)))
    return tokens


def _quoted(query: str, start: int) -> Token:
    closing = _QUOTES[query[start]]
    end = query.find(closing, start + 1)
    if closing == "\u201d" and end < 0:
        end = query.find('"', start + 1)
    if end < 0:
        raise QueryError("unbalanced quote", query=query, position=start)
    return Token("quoted", query[start + 1 : end], start, end + 1)


def _regex(query: str, start: int) -> Token:
    i = start + 1
    while i < len(query):
        if query[i] == "\\":
            i += 2
            continue
        if query[i] == "/":
            source = query[start + 1 : i].replace("\\/", "/")
            return Token("regex", source, start, i + 1)
        i += 1
    raise QueryError("unterminated regular expression (missing closing '/')",
                     query=query, position=start)


def _word(query: str, start: int, tokens: list[Token]) -> int:
    end = start
    while end < len(query) and query[end] not in _WORD_END:
        end += 1
    text = query[start:end]
    if text.startswith("title:"):
        tokens.append(Token("title", "title:", start, start + 6))
        if start + 6 >= len(query) or query[start + 6].isspace():
            raise QueryError("expected a term after 'title:'", query=query, position=start + 6)
        return start + 6
    if text in ("AND", "OR", "NOT"):
        tokens.append(Token(text, text, start, end))  # type: ignore[arg-type]
        return end
    near = _NEAR.match(text)
    if near:
        tokens.append(Token("NEAR", text, start, end, _near_distance(query, start, near[1])))
        return end
    tokens.append(Token("word", text, start, end))
    return end


def _near_distance(query: str, start: int, given: str | None) -> int:
    if given is None:
        return DEFAULT_NEAR
    if not given.isascii() or not given.isdigit() or int(given) < 1:
        raise QueryError("NEAR/ needs a whole number of words, for example NEAR/5",
                         query=query, position=start + 5)
    return int(given)


# --- parser ---------------------------------------------------------------------------------


def _balanced(kind: type[And] | type[Or], operands: list[Node]) -> Node:
    """``a OP b OP c …`` as a balanced tree of ``kind``: same meaning and leaf order as the
    left-leaning chain, depth log2(n) instead of n."""
    if len(operands) == 1:
        return operands[0]
    middle = len(operands) // 2
    return kind(_balanced(kind, operands[:middle]), _balanced(kind, operands[middle:]))


MAX_NESTING = 100  # parentheses, NOTs and NEARs within one another: deeper is refused


class _Parser:
    """Recursive descent. Chains of OR and of AND become balanced trees (a query may list
    thousands of names), and nesting is capped, so nothing that walks a tree recurses deeper
    than about MAX_NESTING levels."""

    def __init__(self, query: str, tokens: list[Token]) -> None:
        self.query = query
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def error(self, message: str, position: int) -> QueryError:
        return QueryError(message, query=self.query, position=position)

    def advance(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise self.error("empty query", 0)
        node = self.or_expr()
        token = self.token
        if token.kind == ")":
            raise self.error("unbalanced ')'", token.position)
        if token.kind != "end":
            raise self.error("expected AND, OR, NOT or NEAR between terms", token.position)
        return node

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.token.kind == "OR":
            operator = self.advance()
            operands.append(self.and_expr_after(operator))
        return _balanced(Or, operands)

    def and_expr(self) -> Node:
        operands = [self.unary()]
        while self.token.kind in ("AND", "NOT"):
            operator = self.advance()
            if operator.kind == "AND":
                operands.append(self.unary_after(operator))
            else:
                operands.append(Not(self.near_after(operator)))
        return _balanced(And, operands)

    def nested(self, operator: Token) -> None:
        """Count one level of nesting at ``operator``; refuse too many."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"nested more than {MAX_NESTING} levels deep", operator.position)

    def and_expr_after(self, operator: Token) -> Node:
        self.expect_operand(operator)
        return self.and_expr()

    def unary_after(self, operator: Token) -> Node:
        self.expect_operand(operator)
        return self.unary()

    def near_after(self, operator: Token) -> Node:
        self.expect_operand(operator)
        return self.near()

    def unary(self) -> Node:
        if self.token.kind == "NOT":
            operator = self.advance()
            self.nested(operator)
            node = Not(self.unary_after(operator))
            self.depth -= 1
            return node
        return self.near()

    def near(self) -> Node:
        node = self.primary()
        depth = self.depth
        while self.token.kind == "NEAR":
            operator = self.advance()
            self.nested(operator)
            self.expect_operand(operator)
            node = Near(node, self.primary(), operator.distance)
        self.depth = depth
        return node

    def expect_operand(self, operator: Token) -> None:
        if self.token.kind in ("end", ")", "AND", "OR", "NEAR"):
            raise self.error(f"expected a term after {operator.text}", self.token.position)

    def primary(self, field: Field | None = None) -> Node:
        token = self.token
        if token.kind == "(":
            return self.group(field)
        if token.kind == "title":
            self.advance()
            if self.token.kind in ("end", ")", "AND", "OR", "NOT", "NEAR", "title"):
                raise self.error("expected a term after 'title:'", self.token.position)
            return self.primary("title")
        if token.kind == "word":
            return self.phrase(field)
        if token.kind == "quoted":
            self.advance()
            return self.quoted(token, field)
        if token.kind == "regex":
            self.advance()
            return Regex(_compile_regex(self.query, token), self.query[token.position:token.end],
                         field)
        if token.kind == ")":
            raise self.error("unbalanced ')'" if self.index == 0 else "empty term",
                             token.position)
        if token.kind == "end":
            raise self.error("expected a term", token.position)
        raise self.error(f"expected a term before {token.text}", token.position)

    def group(self, field: Field | None) -> Node:
        opening = self.advance()
        if self.token.kind == ")":
            raise self.error("empty parentheses", opening.position)
        self.nested(opening)
        node = self.or_expr()
        self.depth -= 1
        closing = self.token
        if closing.kind != ")":
            if closing.kind == "end":
                raise self.error("unbalanced '(': missing ')'", opening.position)
            raise self.error("expected AND, OR, NOT or NEAR between terms", closing.position)
        self.advance()
        return _with_field(node, field) if field else node

    def phrase(self, field: Field | None) -> Phrase:
        words: list[Token] = []
        while self.token.kind == "word":
            words.append(self.advance())
        written = self.query[words[0].position : words[-1].end]
        prefix = False
        for number, word in enumerate(words):
            star = word.text.find("*")
            if star < 0:
                continue
            if star != len(word.text) - 1 or number != len(words) - 1:
                raise self.error("'*' may only end the last word of a phrase",
                                 word.position + star)
            prefix = True
        text = " ".join(w.text for w in words).removesuffix("*")  # a "*" set prefix or raised
        normalized, capitals = _words(text)
        if not normalized:
            raise self.error("empty term", words[0].position)
        if prefix and len(normalized[-1]) < MIN_PREFIX:
            raise self.error(f"a prefix needs at least {MIN_PREFIX} letters before '*'",
                             words[-1].position)
        return Phrase(normalized, written, prefix=prefix, capitals=capitals, field=field)

    def quoted(self, token: Token, field: Field | None) -> Phrase:
        if "*" in token.text:
            raise self.error("'*' inside quotes is literal; remove the quotes for a prefix",
                             token.position + 1 + token.text.index("*"))
        normalized, capitals = _words(token.text)
        if not normalized:
            raise self.error("empty term", token.position)
        written = self.query[token.position : token.end]
        return Phrase(normalized, written, exact=True, capitals=capitals, field=field)


def _words(text: str) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """Normalized words of ``text`` and, per word, whether it was written as an acronym."""
    normalized = normalize(text)
    words: list[str] = []
    capitals: list[bool] = []
    start = 0
    for word in normalized.text.split(" "):
        if word:
            a, b = normalized.span(start, start + len(word))
            written = text[a:b]
            words.append(word)
            capitals.append(2 <= len(written) <= 5 and written.isalpha() and written.isupper())
        start += len(word) + 1
    return tuple(words), tuple(capitals)


def _with_field(node: Node, field: Field) -> Node:
    """Scope every atom below ``node`` to ``field``."""
    if isinstance(node, Phrase):
        return Phrase(node.words, node.written, node.exact, node.prefix, node.capitals, field)
    if isinstance(node, Regex):
        return Regex(node.pattern, node.written, field)
    if isinstance(node, Not):
        return Not(_with_field(node.child, field))
    if isinstance(node, Near):
        return Near(_with_field(node.left, field), _with_field(node.right, field), node.distance)
    return type(node)(_with_field(node.left, field), _with_field(node.right, field))


# --- regular expressions --------------------------------------------------------------------


def _compile_regex(query: str, token: Token) -> regex.Pattern:
    source = token.text
    if not source:
        raise QueryError("empty regular expression", query=query, position=token.position)
    try:
        re.compile(source)  # the standard module's errors point at the culprit's start
        pattern = regex.compile(source, regex.IGNORECASE | regex.V0)
    except (re.error, regex.error) as exc:
        offset = exc.pos if exc.pos is not None else 0
        raise QueryError(f"bad regular expression: {exc.msg}", query=query,
                         position=token.position + 1 + offset) from exc
    danger = dangerous_repetition(source)
    if danger is not None:
        raise QueryError("regular expression repeats a group that itself repeats or has "
                         "alternatives; that can take exponential time, rewrite it",
                         query=query, position=token.position + 1 + danger)
    if pattern.fullmatch(""):
        raise QueryError("regular expression matches empty text", query=query,
                         position=token.position)
    return pattern


def dangerous_repetition(source: str) -> int | None:
    """Position of a group like ``(a+)+`` or ``(a|ab)*`` that invites catastrophic
    backtracking, else None. Deliberately cautious: a false alarm costs a rewrite, a miss
    hangs the daemon."""
    frames: list[tuple[int, bool]] = [(0, False)]  # (group start, risky inside)
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _skip_class(source, i)
            continue
        if char == "(":
            frames.append((i, False))
            i += 1
            if source.startswith("?", i):
                i += 1
            continue
        repeat = _repeat_length(source, i)
        if char == ")" and len(frames) > 1:
            start, risky = frames.pop()
            following = _repeat_length(source, i + 1)
            if following and risky:
                return start
            _mark(frames, risky or following > 0)
            i += 1 + following
            continue
        if char == "|" or repeat:
            _mark(frames, True)
        i += max(repeat, 1)
    return None


def _mark(frames: list[tuple[int, bool]], risky: bool) -> None:
    start, was = frames[-1]
    frames[-1] = (start, was or risky)


def _repeat_length(source: str, i: int) -> int:
    """Length of an unbounded-ish quantifier at ``i`` (``*``, ``+``, ``{2,}``, ``{1,9}``)."""
    if i >= len(source):
        return 0
    if source[i] in "*+":
        return 2 if source.startswith(("?", "+"), i + 1) else 1
    found = _REPEAT.match(source, i)
    if found and (found[2] or (found[1] and int(found[1]) > 1)):
        return found.end() - i
    return 0


def _skip_class(source: str, i: int) -> int:
    i += 1
    if source.startswith("^", i):
        i += 1
    if source.startswith("]", i):
        i += 1
    while i < len(source) and source[i] != "]":
        i += 2 if source[i] == "\\" else 1
    return i + 1


# --- plural and possessive forms ------------------------------------------------------------


def key_forms(phrase: Phrase) -> list[str]:
    """The normalized strings that stand for ``phrase`` in the automaton.

    Quoted phrases and prefixes stand for themselves; otherwise the last word also appears
    in its regular English plural/singular forms and their possessives ('s, s').
    """
    text = " ".join(phrase.words)
    last = phrase.words[-1]
    if phrase.exact or phrase.prefix or not last[-1:].isalpha():
        return [text]
    head = text[: len(text) - len(last)]
    forms = {last, *_plurals(last), *_singulars(last)}
    keys = set()
    for form in forms:
        keys.add(head + form)
        keys.add(head + form + "'s")
        if form.endswith("s"):
            keys.add(head + form + "'")
    return sorted(keys)


def _plurals(word: str) -> list[str]:
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        return [word[:-1] + "ies"]
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return [word + "es"]
    if word.endswith("o"):
        return [word + "s", word + "es"]
    return [word + "s"]


def _singulars(word: str) -> list[str]:
    found = []
    if len(word) > 4 and word.endswith("ies"):
        found.append(word[:-3] + "y")
    if len(word) > 3 and word.endswith("es") and word[:-2].endswith(
            ("s", "x", "z", "ch", "sh", "o")):
        found.append(word[:-2])
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "'s")):
        found.append(word[:-1])
    return found
