"""Overrides of the image operations: images saved to files, their paths printed.

``oai images generate``, ``oai images edit IMAGE... --mask MASK`` and ``oai images
create-variation IMAGE`` decode ``b64_json`` answers into files (``-O out.png``;
``out-1.png``, ``out-2.png`` for several; ``--output-dir DIR``; by default
``image-<created>[-N].<ext>`` in the current directory) and print each path on
stdout. URL answers are listed, and downloaded too when a destination is given.
With ``--stream`` each partial image is saved as it arrives. An explicit ``-o``
format without a destination prints the API's answer as it is.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openai_cli import writer
from openai_cli.builder import Fields, Prepared
from openai_cli.commands.audio import OUTPUT_FILE, moved_argument
from openai_cli.errors import NothingSaved, OutputError
from openai_cli.input.outputs import STDOUT
from openai_cli.operations.streams import Sink, StreamEvent
from openai_cli.options import OptionSpec, reuse
from openai_cli.textfmt import count

if TYPE_CHECKING:
    from typer.core import TyperCommand

    from openai_cli.builder import CommandSpec
    from openai_cli.context import Factory
    from openai_cli.io import IO
    from openai_cli.operations.request import Call, Request

_PANEL = "Request"
# Extensions that name an output format the gpt-image models can produce.
IMAGE_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
_EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
_PARTIAL = frozenset({"image_generation.partial_image", "image_edit.partial_image"})
_COMPLETED = frozenset({"image_generation.completed", "image_edit.completed"})


_SAVE_HELP = (
    "Save one image to PATH; several become PATH-1, PATH-2, ... With a gpt-image model "
    "the extension (.png, .jpg, .webp) sets --output-format."
)
_OUTPUT_DIR = OptionSpec(
    "output_dir",
    str | None,
    ("--output-dir",),
    metavar="DIR",
    help="Save the images in DIR (created if needed).",
    panel=_PANEL,
)
_IMAGES = OptionSpec("images", str | None, argument=True, show_default=False)


@dataclass(frozen=True, kw_only=True)
class SaveOptions:
    """Where ``images generate`` saves the images."""

    output_file: str | None = reuse(OUTPUT_FILE, help=_SAVE_HELP)
    output_dir: str | None = reuse(_OUTPUT_DIR)


# The images to work on come first, as they always have (shell completion reads the
# order): a class lists its bases' fields last base first.
@dataclass(frozen=True, kw_only=True)
class _ImagePaths:
    images: list[str] | None = reuse(
        _IMAGES, metavar="IMAGE...", help="Input image paths (same as repeating --image)."
    )


@dataclass(frozen=True, kw_only=True)
class _ImagePath:
    images: str | None = reuse(_IMAGES, metavar="IMAGE", help="Input image path.")


@dataclass(frozen=True, kw_only=True)
class EditOptions(SaveOptions, _ImagePaths):
    """``images edit IMAGE...``: the images to edit, then where the results go."""


@dataclass(frozen=True, kw_only=True)
class VariationOptions(SaveOptions, _ImagePath):
    """``images create-variation IMAGE``."""


def generate(spec: CommandSpec) -> TyperCommand:
    def prepare(factory: Factory, opts: SaveOptions, fields: Fields) -> Prepared[SaveOptions]:
        return Prepared(_format_from_extension(opts, fields))

    return spec.command(
        _save,
        options=SaveOptions,
        prepare=prepare,
        help_prefix="Generate images from --prompt and save them: oai images generate "
        "--prompt 'a red fox' -O fox.png. The saved paths are printed; --stream saves "
        "partial images too.",
    )


def edit(spec: CommandSpec) -> TyperCommand:
    def prepare(factory: Factory, opts: EditOptions, fields: Fields) -> Prepared[EditOptions]:
        moved = moved_argument(fields, "image", opts.images, many=True)
        return Prepared({**moved, **_format_from_extension(opts, fields)})

    return spec.command(
        _save,
        options=EditOptions,
        prepare=prepare,
        help_prefix="Edit images (given as paths) following --prompt, with an optional --mask: "
        "oai images edit room.png --mask mask.png --prompt 'add a cat' -O out.png.",
    )


def create_variation(spec: CommandSpec) -> TyperCommand:
    def prepare(
        factory: Factory, opts: VariationOptions, fields: Fields
    ) -> Prepared[VariationOptions]:
        moved = moved_argument(fields, "image", opts.images)
        return Prepared({**moved, **_format_from_extension(opts, fields)})

    return spec.command(
        _save,
        options=VariationOptions,
        prepare=prepare,
        help_prefix="Variations of IMAGE: oai images create-variation photo.png --n 2 -O var.png.",
    )


def _save(factory: Factory, call: Call, opts: SaveOptions) -> int:
    return save_images(factory, call, opts.output_file, opts.output_dir)


def _format_from_extension(opts: SaveOptions, fields: Fields) -> dict[str, Any]:
    """``-O x.webp`` asks for webp, where the model takes an output format at all."""
    out = opts.output_file
    if not out or fields.body_given or not fields.has("output_format"):
        return {}
    model = fields.get("model") or ""
    fmt = IMAGE_FORMATS.get(os.path.splitext(out)[1].lower())
    if fmt and str(model).startswith("gpt-image") and fields.get("output_format") is None:
        return {"output_format": fmt}
    return {}


class Destinations:
    """Where image number ``i`` (from 0) goes, for ``-O``, ``--output-dir`` or neither.

    ``-O -`` is stdout, which takes one image (``path`` is then ``None``).
    """

    def __init__(
        self, output_file: str | None, output_dir: str | None, io: IO | None = None
    ) -> None:
        self.io = io
        self.noted = False
        self.stdout = output_file == STDOUT
        self.file = Path(output_file) if output_file and not self.stdout else None
        self.dir = Path(output_dir) if output_dir else None
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)
        self.stamp: str | None = None

    def path(self, i: int, count: int | None, fmt: str | None, created: Any = None) -> Path | None:
        """``count`` None means not known yet (a stream): the first image gets the bare name."""
        if self.stdout:
            return None
        several = i > 0 if count is None else count > 1
        if self.file is not None:
            base = self.dir / self.file if self.dir is not None else self.file
            if several:
                return _numbered(base, i, self._extension(fmt))
            return base
        ext = self._extension(fmt)
        if self.stamp is None:
            # The server's number, and only a number, names the file.
            ok = isinstance(created, int) and not isinstance(created, bool) and created > 0
            self.stamp = str(created) if ok else _now()
        folder = self.dir if self.dir is not None else Path(".")
        name = f"image-{self.stamp}" + (f"-{i + 1}" if several else "")
        return _unused(folder / f"{name}{ext}")

    def _extension(self, fmt: Any) -> str:
        """The file extension for the answer's ``output_format``: a known one, else ``.bin``.

        The field is the server's text: a NUL, a path or an escape sequence in it must
        not reach a file name, after the image has been paid for.
        """
        if fmt is None:
            return ".png"
        ext = _EXTENSIONS.get(fmt) if isinstance(fmt, str) else None
        if ext is None:
            ext = ".bin"
            if self.io is not None and not self.noted:
                self.noted = True
                self.io.message(
                    f"oai: the answer's output_format {str(fmt)[:40]!r} is not png, jpeg or "
                    "webp; saved with the extension .bin"
                )
        return ext

    def partial(self, final: Path, k: int) -> Path:
        return final.with_name(f"{final.stem}.partial-{k}{final.suffix}")


def save_images(
    factory: Factory, call: Call, output_file: str | None, output_dir: str | None
) -> int:
    """Send ``call`` and save the images of its answer (JSON, or a stream of events)."""
    from openai_cli.operations.runner import execute, stream_events
    from openai_cli.operations.send import answer_json, send

    request = call.request
    # The answer is JSON; files are written here, not by the runner.
    call = replace(call, answer=replace(call.answer, output_file=None))
    _check_destinations(factory, request, output_file, output_dir)
    explicit = bool(factory.shared.query) or factory.output_format() != "auto"
    if factory.shared.dry_run or (explicit and not output_file and not output_dir):
        return execute(factory, call)
    dest = Destinations(output_file, output_dir, factory.io)
    io = factory.io
    if request.stream:
        sink = _PartialImages(factory, dest)
        stream_events(factory, request, sink, answer=lambda resp: sink.whole(answer_json(resp)))
        if not sink.saved:
            raise NothingSaved(f"the stream ended without an image; {_nothing(dest)}")
        return 0
    client = factory.client(admin=request.admin)
    return _save_answer(factory, answer_json(send(client, request)), dest, io)


def _check_destinations(
    factory: Factory, request: Request, output_file: str | None, output_dir: str | None
) -> None:
    """Refuse, before the request, a destination that could not take the images."""
    from openai_cli.errors import UsageError
    from openai_cli.input.outputs import check_outputs

    if output_file == STDOUT:
        if output_dir:
            raise UsageError("--output-dir: -O - writes the image to stdout; give one or the other")
        if factory.io.stdout_tty:
            raise UsageError("-O -: stdout is a terminal; give a file name (or pipe stdout)")
        n = (request.body or {}).get("n")
        if isinstance(n, int) and n > 1:
            raise UsageError(f"-O -: stdout takes one image, and --n asks for {n}")
    shown = output_file
    if output_file and output_file != STDOUT and output_dir:
        shown = os.path.join(output_dir, output_file)
    files = [("--output-file", shown)]
    n = (request.body or {}).get("n")
    if shown and shown != STDOUT and isinstance(n, int) and n > 1:
        # Several images are PATH-1, PATH-2, ...: each is a destination to check.
        fmt = str((request.body or {}).get("output_format") or "png")
        ext = _EXTENSIONS.get(fmt, f".{fmt}")
        files = [("--output-file", str(_numbered(Path(shown), i, ext))) for i in range(min(n, 128))]
    check_outputs(*files, dirs=[("--output-dir", output_dir)])


def _numbered(base: Path, i: int, ext: str) -> Path:
    """Image ``i`` (from 0) of several written to ``base``."""
    return base.with_name(f"{base.stem}-{i + 1}{base.suffix or ext}")


def _nothing(dest: Destinations) -> str:
    if dest.stdout:
        return "nothing was written to stdout"
    if dest.file is not None:
        return f"nothing was written to {dest.dir / dest.file if dest.dir else dest.file}"
    return f"nothing was saved in {dest.dir}" if dest.dir else "nothing was saved"


def _save_answer(factory: Factory, answer: Any, dest: Destinations, io: IO) -> int:
    items = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(items, list) or not items:
        raise NothingSaved(f"the answer holds no image; {_nothing(dest)}")
    fmt = answer.get("output_format") if isinstance(answer, dict) else None
    created = answer.get("created")
    download = dest.file is not None or dest.dir is not None or dest.stdout
    empty = 0
    for i, item in enumerate(items):
        if dest.stdout and i > 0:
            raise NothingSaved(
                f"the answer holds {count(len(items), 'image')}; -O - wrote the first only",
                hint="give -O PATH to save each (PATH-1, PATH-2, ...)",
            )
        path = dest.path(i, len(items), fmt, created)
        if isinstance(item, dict) and item.get("b64_json"):
            _write(io, path, _b64(str(item["b64_json"])))
        elif isinstance(item, dict) and item.get("url"):
            url = str(item["url"])
            if download:
                _download(factory, url, path)
                _print_path(io, path)
            else:
                io.out.write(url + "\n")
                io.out.flush()
        else:
            empty += 1
            continue
        if factory.shared.verbose and item.get("revised_prompt"):
            io.message(f"revised prompt: {item['revised_prompt']}")
    if factory.shared.verbose and isinstance(answer.get("usage"), dict):
        from openai_cli.render.live import usage_text

        io.message("usage: " + usage_text(answer["usage"]))
    if empty:
        raise NothingSaved(
            f"{empty} of the {count(len(items), 'image')} in the answer held no image data"
        )
    return 0


class _PartialImages(Sink):
    """Saves each partial image, then the final one, as their events arrive."""

    def __init__(self, factory: Factory, dest: Destinations) -> None:
        self.factory = factory
        self.io = factory.io
        self.dest = dest
        self.index = 0  # of the image being generated
        self.final: Path | None = None
        self.saved = 0  # finished images written

    def _final(self, fmt: Any, created: Any) -> Path | None:
        if self.final is None:
            self.final = self.dest.path(self.index, None, fmt, created)
        return self.final

    def event(self, ev: StreamEvent) -> None:
        p = ev.payload
        if not isinstance(p, dict) or not p.get("b64_json"):
            return
        fmt = p.get("output_format")
        if ev.kind in _PARTIAL:
            final = self._final(fmt, p.get("created_at"))
            if final is None:
                return  # stdout takes the finished image only
            path: Path | None = self.dest.partial(final, _index(p.get("partial_image_index")))
        elif ev.kind in _COMPLETED:
            if self.dest.stdout and self.saved:
                raise NothingSaved("the stream sent several images; -O - wrote the first only")
            path = self._final(fmt, p.get("created_at"))
            self.final = None
            self.index += 1
            self.saved += 1
            if self.factory.shared.verbose and isinstance(p.get("usage"), dict):
                from openai_cli.render.live import usage_text

                self.io.message("usage: " + usage_text(p["usage"]))
        else:
            return
        _write(self.io, path, _b64(str(p["b64_json"])))

    def whole(self, answer: Any) -> int:
        """The server answered with the finished images instead of a stream."""
        rc = _save_answer(self.factory, answer, self.dest, self.io)
        self.saved += 1
        return rc


def _print_path(io: IO, path: Path | None) -> None:
    if path is not None:
        io.out.write(f"{path}\n")
        io.out.flush()


def _write(io: IO, path: Path | None, data: bytes) -> None:
    """The image at ``path`` (in one step, :mod:`openai_cli.writer`), its path printed; or
    on stdout."""
    if path is None:
        io.stdout_bytes.write(data)
        io.stdout_bytes.flush()
        return
    try:
        writer.write_file(path, data)
    except OSError as exc:
        # The request was paid for already: an output error, not a usage error.
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    _print_path(io, path)


def _b64(text: str) -> bytes:
    from openai_cli.errors import ProtocolError

    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        raise ProtocolError(f"the image is not valid base64: {text[:40]!r}...") from None


def _download(factory: Factory, url: str, path: Path | None) -> None:
    """Fetch an image URL (signed, on another host: the API key is not sent there)."""
    import httpx

    from openai_cli.errors import NetworkError
    from openai_cli.operations.runner import download
    from openai_cli.operations.send import open_foreign

    try:
        with open_foreign(factory.settings(), url) as resp:
            if path is None:
                for chunk in resp.iter_bytes(1 << 16):
                    factory.io.stdout_bytes.write(chunk)
                factory.io.stdout_bytes.flush()
            else:
                download(factory.io, resp, path, str(path))
    except httpx.HTTPError as exc:
        raise NetworkError(f"could not download {url.split('?')[0]}: {exc}") from None


def _index(value: Any) -> int:
    """A partial image's number from the event, when it is a plain small number."""
    return (
        value
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**6
        else 0
    )


def _now() -> str:
    import time

    return time.strftime("%Y%m%d-%H%M%S")


def _unused(path: Path) -> Path:
    """``path``, or ``name.2.ext``, ... when it exists: a default name never overwrites."""
    if not path.exists():
        return path
    n = 2
    while True:
        candidate = path.with_name(f"{path.stem}.{n}{path.suffix}")
        if not candidate.exists():
            return candidate
        n += 1
