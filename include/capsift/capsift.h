/* capsift: fast analysis of large packet captures. Includes every public module. */
#ifndef CAPSIFT_CAPSIFT_H
#define CAPSIFT_CAPSIFT_H

#include <capsift/common.h>
#include <capsift/decode.h>
#include <capsift/diff.h>
#include <capsift/digest.h>
#include <capsift/filter.h>
#include <capsift/flow.h>
#include <capsift/index.h>
#include <capsift/cache.h>
#include <capsift/chart.h>
#include <capsift/cluster.h>
#include <capsift/bench.h>
#include <capsift/bloom.h>
#include <capsift/engine.h>
#include <capsift/fingerprint.h>
#include <capsift/info.h>
#include <capsift/ioc.h>
#include <capsift/match.h>
#include <capsift/meta.h>
#include <capsift/metapass.h>
#include <capsift/minhash.h>
#include <capsift/outfile.h>
#include <capsift/packet.h>
#include <capsift/parse.h>
#include <capsift/periodic.h>
#include <capsift/pool.h>
#include <capsift/query.h>
#include <capsift/reader.h>
#include <capsift/rolling.h>
#include <capsift/search.h>
#include <capsift/searchpass.h>
#include <capsift/selectpass.h>
#include <capsift/signal.h>
#include <capsift/signature.h>
#include <capsift/spectrum.h>
#include <capsift/stats.h>
#include <capsift/timeline.h>
#include <capsift/writer.h>

#endif
