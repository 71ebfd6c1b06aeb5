#!/usr/bin/python3
"""Append-only layout gate over two abidw XML files (old and new ABI of the probe library).

Within one ABI major version a struct may only grow at its end. For every struct whose name starts
with PREFIX this checks that it still exists, that its old members keep their names and bit
offsets in order, that new members start at or after the old size, and that it did not shrink.
abidiff cannot tell an append from an insertion (it reports both as a change), hence this gate.

Exit: 0 append-only, 1 layout break (each one printed), 2 usage or parse error.
"""
import argparse
import sys
import xml.etree.ElementTree as ET


def fail_usage(message):
    print(f"check_layout: error: {message}", file=sys.stderr)
    sys.exit(2)


def read_structs(path, prefix):
    """Returns {name: (size_in_bits, [(offset_in_bits, member_name), ...])} for defined structs."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        fail_usage(f"cannot read {path}: {e}")
    structs = {}
    # abidw may emit a struct several times: declaration-only forward references, and one full
    # definition per translation unit. Skip the former; identical definitions collapse into one.
    for decl in root.iter("class-decl"):
        name = decl.get("name", "")
        if not name.startswith(prefix) or decl.get("is-declaration-only") == "yes":
            continue
        if decl.get("size-in-bits") is None:
            fail_usage(f"{path}: struct {name} has no size-in-bits")
        members = []
        for dm in decl.findall("data-member"):  # direct members only, not nested types'
            if dm.get("static") == "yes":
                continue
            var = dm.find("var-decl")
            offset = dm.get("layout-offset-in-bits")
            if var is None or offset is None:
                fail_usage(f"{path}: struct {name} has a data-member without name or offset")
            members.append((int(offset), var.get("name", "")))
        layout = (int(decl.get("size-in-bits")), members)
        if structs.setdefault(name, layout) != layout:
            fail_usage(f"{path}: conflicting definitions of struct {name}")
    return structs


def check(old, new):
    """Yields one message per layout break."""
    for name, (old_size, old_members) in sorted(old.items()):
        if name not in new:
            yield f"struct {name}: missing from the new ABI"
            continue
        new_size, new_members = new[name]
        for i, (off, member) in enumerate(old_members):
            if i >= len(new_members):
                yield f"struct {name}: member '{member}' (bit {off}) was removed"
                break
            if new_members[i] != (off, member):
                new_off, new_member = new_members[i]
                yield (f"struct {name}: old member '{member}' at bit {off} is now "
                       f"'{new_member}' at bit {new_off} (members may only be appended)")
                break
        for off, member in new_members[len(old_members):]:
            if off < old_size:
                yield (f"struct {name}: new member '{member}' at bit {off} starts inside the old "
                       f"struct ({old_size} bits)")
        if new_size < old_size:
            yield f"struct {name}: shrank from {old_size} to {new_size} bits"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_abi", help="abidw XML of the old (baseline) library")
    parser.add_argument("new_abi", help="abidw XML of the new library")
    parser.add_argument("prefix", nargs="?", default="pcv_", help="struct name prefix (pcv_)")
    args = parser.parse_args()  # exits 2 on usage errors

    old = read_structs(args.old_abi, args.prefix)
    new = read_structs(args.new_abi, args.prefix)
    if not old:  # an empty baseline would make the gate pass vacuously
        fail_usage(f"no defined struct named {args.prefix}* in {args.old_abi}")
    breaks = list(check(old, new))
    for message in breaks:
        print(f"check_layout: BREAK: {message}")
    grown = sum(1 for n in old if n in new and new[n][0] > old[n][0])
    print(f"check_layout: {len(old)} structs checked, {grown} grew, {len(breaks)} breaks")
    return 1 if breaks else 0


if __name__ == "__main__":
    sys.exit(main())
