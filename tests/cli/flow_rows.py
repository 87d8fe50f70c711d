# Reads flow JSON lines (capsift flows --json / query --json) on stdin and prints the number
# of rows and a digest of them without the "file" key, sorted: equal output means the same
# flows whatever the order and whatever path the file was named by.
import hashlib, json, sys
rows = sorted(json.dumps({k: v for k, v in json.loads(l).items() if k != "file"}, sort_keys=True)
              for l in sys.stdin if l.strip())
print(len(rows), hashlib.md5("\n".join(rows).encode()).hexdigest())
