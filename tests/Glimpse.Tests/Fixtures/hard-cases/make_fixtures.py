#!/usr/bin/python3
"""The hard decoding cases of issue 13, made with the formats' reference tools, each with the
picture a photo manager shows as an 8-bit RGB PNG (NAME.ref.png): what PIL's convert("RGB")
gives for the formats PIL reads (palette + transparency keeps the palette colour, CMYK by PIL's
formula, alpha dropped), and the formats' reference decoders (libheif's heif-convert, which
applies irot/imir; djxl, which applies orientation) for HEIF, AVIF and JPEG XL.

usage: /usr/bin/python3 make_fixtures.py SHARED_DIR
needs Debian's python3-pil, libtiff-tools, imagemagick, libheif-examples, libavif-bin, libjxl-tools.
Run once; the outputs are committed beside this script (tests/Glimpse.Tests/Imaging/HardCaseTests.cs).
"""
import os, subprocess, sys, tempfile
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERT = "/usr/bin/convert"  # Debian's ImageMagick, not a stand-in earlier on PATH


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pil_reference(path, out):
    img = Image.open(path)
    img.seek(0)
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I"):
        img = img.point(lambda v: v / 257).convert("L")
    img.convert("RGB").save(out)


def decoder_reference(tool, path, out, tmp):
    png = os.path.join(tmp, "decoded.png")
    if tool == "heif":
        run("heif-convert", path, png)
    else:
        run("djxl", path, png)
    Image.open(png).convert("RGB").save(out)


def main():
    shared = sys.argv[1]
    tmp = tempfile.mkdtemp()
    src = Image.open(os.path.join(shared, "fixtures", "preprocess", "01.jpg")).convert("RGB").resize((320, 240), Image.BICUBIC)
    other = Image.open(os.path.join(shared, "fixtures", "preprocess", "09.png")).convert("RGB").resize((320, 240), Image.BICUBIC)
    base_png, base_tif, other_tif = (os.path.join(tmp, n) for n in ("base.png", "base.tif", "other.tif"))
    src.save(base_png)
    src.save(base_tif)
    other.save(other_tif)
    rgba = src.copy()
    rgba.putalpha(Image.linear_gradient("L").resize((320, 240)))
    rgba_png = os.path.join(tmp, "rgba.png")
    rgba.save(rgba_png)
    out = lambda name: os.path.join(HERE, name)
    pil_cases, decoder_cases = [], []

    # Palette with a transparent index: PIL keeps the palette colour under it.
    pal = src.quantize(64)
    counts = sorted(pal.getcolors(), reverse=True)
    pal.save(out("palette-transparent.png"), transparency=counts[0][1])
    pal.save(out("palette-transparent.gif"), transparency=counts[0][1])
    src.convert("LA").save(out("grey-alpha.png"))
    run(CONVERT, rgba_png, "-depth", "16", "PNG64:" + out("rgba-16bit.png"))
    src.convert("CMYK").save(out("cmyk-adobe.jpg"), quality=95)  # PIL writes Adobe-inverted CMYK
    pil_cases += ["palette-transparent.png", "palette-transparent.gif", "grey-alpha.png", "rgba-16bit.png", "cmyk-adobe.jpg"]

    # TIFF: every compression, predictor, byte order and layout libtiff writes.
    run("tiffcp", "-B", "-c", "lzw", base_tif, out("lzw-big-endian.tif"))
    run("tiffcp", "-L", "-c", "lzw:2", base_tif, out("lzw-predictor.tif"))
    run("tiffcp", "-c", "zip:2", base_tif, out("deflate-predictor.tif"))
    run("tiffcp", "-c", "packbits", base_tif, out("packbits.tif"))
    run("tiffcp", "-t", "-w", "64", "-l", "64", "-c", "lzw", base_tif, out("tiled.tif"))
    run(CONVERT, base_png, "-depth", "16", "-compress", "lzw", out("rgb-16bit.tif"))
    run("tiffcp", "-c", "lzw", base_tif, other_tif, out("multi-page.tif"))
    for name in ["lzw-big-endian.tif", "lzw-predictor.tif", "deflate-predictor.tif", "packbits.tif", "tiled.tif", "multi-page.tif"]:
        pil_cases.append(name)
    src.save(out("rgb-16bit.tif.ref.png"))  # 8-bit values scaled by 257: the 8-bit picture is the source

    # AVIF and HEIF: depths, alpha, rotation and mirror boxes, grids.
    run("avifenc", "-s", "8", "-d", "12", base_png, out("avif-12bit.avif"))
    run("avifenc", "-s", "8", "--irot", "1", "--imir", "1", base_png, out("avif-rotated-mirrored.avif"))
    run("avifenc", "-s", "8", rgba_png, out("avif-alpha.avif"))
    run("avifenc", "-s", "8", "--grid", "2x2", base_png, out("avif-grid.avif"))
    run(CONVERT, base_png, "-depth", "16", "PNG48:" + os.path.join(tmp, "rgb16.png"))
    run("heif-enc", "-b", "10", "-o", out("heic-10bit.heic"), os.path.join(tmp, "rgb16.png"))
    run("heif-enc", "-o", out("heic-alpha.heic"), rgba_png)
    decoder_cases += [("heif", n) for n in ["avif-12bit.avif", "avif-rotated-mirrored.avif", "avif-alpha.avif", "avif-grid.avif", "heic-10bit.heic", "heic-alpha.heic"]]

    # JPEG XL of a JPEG with EXIF orientation 6: djxl turns it.
    jpeg6 = os.path.join(tmp, "rotated.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6
    src.save(jpeg6, quality=92, exif=exif.tobytes())
    run("cjxl", jpeg6, out("jxl-orientation-6.jxl"))
    decoder_cases.append(("jxl", "jxl-orientation-6.jxl"))

    for name in pil_cases:
        pil_reference(out(name), out(name + ".ref.png"))
    for tool, name in decoder_cases:
        decoder_reference(tool, out(name), out(name + ".ref.png"), tmp)


main()
