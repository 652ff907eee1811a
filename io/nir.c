/* io/nir.c — the NIR file layout (see nir.h; the layout, as verified against the nir
 * library's serialization code, is in io/README.md "NIR graphs"):
 *
 *   /version                 scalar variable-length UTF-8 string ("1.0.7")
 *   /node/type               scalar vlen string "NIRGraph"
 *   /node/nodes/<name>/type  scalar vlen string: the node's type ("LIF", "Affine", ...)
 *   /node/nodes/<name>/<p>   one dataset per parameter: float32/float64 arrays or scalars,
 *                            int64 arrays or scalars, vlen strings ("same")
 *   /node/nodes/<name>/metadata/<k>   optional metadata datasets
 *   /node/edges              [N, 2] vlen strings: source and target node names
 *   /node/metadata/<k>       optional graph metadata
 *
 * HDF5 stays in io/. Only hard links are followed (an external link in a hostile file
 * would open another file). */
#include "nir.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/h5util.h"
#include "io/replace.h"
#include "sim/evsnn.h"

/* ---- building ---- */

nir_graph *nir_graph_create(void) {
    nir_graph *g = calloc(1, sizeof *g);
    if (g) snprintf(g->version, sizeof g->version, "%s", NIR_LAYOUT_VERSION);
    return g;
}

static void param_free(nir_param *p) {
    free(p->v);
    free(p->s);
}

static void params_free(nir_param *p, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) param_free(&p[i]);
    free(p);
}

void nir_graph_free(nir_graph *g) {
    if (!g) return;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        params_free(g->nodes[i].p, g->nodes[i].n_p);
        params_free(g->nodes[i].meta, g->nodes[i].n_meta);
    }
    free(g->nodes);
    free(g->edges);
    params_free(g->meta, g->n_meta);
    free(g);
}

int nir_add_node(nir_graph *g, const char *name, const char *type) {
    if (g->n_nodes >= NIR_MAX_NODES || strlen(name) >= NIR_NAME_MAX || strlen(type) >= sizeof g->nodes->type)
        return evsnn_seterr(EVSNN_EINVAL, "NIR node '%.64s': too many nodes or name too long", name);
    if (g->n_nodes == g->cap_nodes) {
        uint32_t cap = g->cap_nodes ? 2 * g->cap_nodes : 16;
        nir_node *nn = realloc(g->nodes, cap * sizeof *nn);
        if (!nn) return evsnn_seterr(EVSNN_ENOMEM, "no memory for NIR nodes");
        g->nodes = nn;
        g->cap_nodes = cap;
    }
    nir_node *nd = &g->nodes[g->n_nodes];
    memset(nd, 0, sizeof *nd);
    snprintf(nd->name, sizeof nd->name, "%s", name);
    snprintf(nd->type, sizeof nd->type, "%s", type);
    return (int)g->n_nodes++;
}

/* A fresh slot at the end of a parameter list (node, node metadata or graph metadata). */
static nir_param *param_slot(nir_graph *g, int node, int meta, const char *name) {
    nir_param **list;
    uint32_t *n;
    if (node < 0) { list = &g->meta; n = &g->n_meta; }
    else if ((uint32_t)node >= g->n_nodes) return NULL;
    else if (meta) { list = &g->nodes[node].meta; n = &g->nodes[node].n_meta; }
    else { list = &g->nodes[node].p; n = &g->nodes[node].n_p; }
    if (strlen(name) >= NIR_NAME_MAX) return NULL;
    nir_param *np = realloc(*list, (*n + 1) * sizeof *np);
    if (!np) return NULL;
    *list = np;
    nir_param *p = &np[(*n)++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    return p;
}

int nir_add_num(nir_graph *g, int node, int meta, const char *name, nir_dtype t, int rank, const uint64_t *dims,
                const double *v) {
    if (rank < 0 || rank > NIR_MAX_RANK || t == NIR_STR || t == NIR_OTHER)
        return evsnn_seterr(EVSNN_EINVAL, "NIR dataset '%s': bad rank or type", name);
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    double *copy = malloc((n ? n : 1) * sizeof *copy);
    nir_param *p = copy ? param_slot(g, node, meta, name) : NULL;
    if (!p) { free(copy); return evsnn_seterr(EVSNN_ENOMEM, "no memory for NIR dataset '%s'", name); }
    memcpy(copy, v, n * sizeof *copy);
    p->dtype = t;
    p->rank = rank;
    for (int i = 0; i < rank; i++) p->dims[i] = dims[i];
    p->n = n;
    p->v = copy;
    return 0;
}

int nir_add_str(nir_graph *g, int node, int meta, const char *name, const char *s) {
    char *copy = strdup(s);
    nir_param *p = copy ? param_slot(g, node, meta, name) : NULL;
    if (!p) { free(copy); return evsnn_seterr(EVSNN_ENOMEM, "no memory for NIR dataset '%s'", name); }
    p->dtype = NIR_STR;
    p->n = 1;
    p->s = copy;
    return 0;
}

int nir_add_edge(nir_graph *g, uint32_t from, uint32_t to) {
    if (from >= g->n_nodes || to >= g->n_nodes || g->n_edges >= NIR_MAX_EDGES)
        return evsnn_seterr(EVSNN_EINVAL, "NIR edge %u -> %u: no such node or too many edges", from, to);
    if (g->n_edges == g->cap_edges) {
        uint32_t cap = g->cap_edges ? 2 * g->cap_edges : 16;
        uint32_t(*ne)[2] = realloc(g->edges, cap * sizeof *ne);
        if (!ne) return evsnn_seterr(EVSNN_ENOMEM, "no memory for NIR edges");
        g->edges = ne;
        g->cap_edges = cap;
    }
    g->edges[g->n_edges][0] = from;
    g->edges[g->n_edges][1] = to;
    g->n_edges++;
    return 0;
}

int nir_find_node(const nir_graph *g, const char *name) {
    for (uint32_t i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].name, name)) return (int)i;
    return -1;
}

const nir_param *nir_get_meta(const nir_param *m, uint32_t n, const char *name) {
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(m[i].name, name)) return &m[i];
    return NULL;
}

const nir_param *nir_get(const nir_node *nd, const char *name) { return nir_get_meta(nd->p, nd->n_p, name); }

/* ---- reading ---- */

/* A string type for reading file type ft into memory: same character set (HDF5 converts
 * neither ASCII <-> UTF-8), variable length or w + 1 bytes. */
static hid_t str_memtype(hid_t ft, int vlen, size_t w) {
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_cset(mt, H5Tget_cset(ft));
    if (vlen) H5Tset_size(mt, H5T_VARIABLE);
    else {
        H5Tset_size(mt, w + 1);
        H5Tset_strpad(mt, H5T_STR_NULLTERM);
    }
    return mt;
}

/* Read n strings of dataset d (file type ft) into newly allocated C strings out[n]. */
static int read_strings(hid_t d, hid_t ft, size_t n, char **out) {
    int vlen = H5Tis_variable_str(ft) > 0;
    size_t w = vlen ? 0 : H5Tget_size(ft);
    if (!vlen && (w == 0 || w > 65536)) return -1;
    hid_t mt = str_memtype(ft, vlen, w);
    int rc = -1;
    if (vlen) {
        char **v = calloc(n ? n : 1, sizeof *v);
        if (v && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0) {
            rc = 0;
            for (size_t i = 0; i < n; i++)
                if (!(out[i] = strdup(v[i] ? v[i] : ""))) rc = -1;
            hid_t sp = H5Dget_space(d);
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
            H5Sclose(sp);
        }
        free(v);
    } else {
        char *buf = calloc(n ? n : 1, w + 1);
        if (buf && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) {
            rc = 0;
            for (size_t i = 0; i < n; i++) {
                buf[i * (w + 1) + w] = 0;
                if (!(out[i] = strdup(buf + i * (w + 1)))) rc = -1;
            }
        }
        free(buf);
    }
    H5Tclose(mt);
    return rc;
}

/* Shape of dataset d: rank, dims and element count. -1 if unusable (rank > NIR_MAX_RANK,
 * too many elements). */
static int read_shape(hid_t d, int *rank, uint64_t *dims, size_t *n) {
    hid_t sp = H5Dget_space(d);
    if (sp < 0) return -1;
    H5S_class_t cl = H5Sget_simple_extent_type(sp);
    int rc = 0;
    *rank = 0;
    *n = 1;
    if (cl == H5S_NULL) *n = 0;
    else if (cl == H5S_SIMPLE) {
        int r = H5Sget_simple_extent_ndims(sp);
        hsize_t hd[NIR_MAX_RANK];
        if (r < 0 || r > NIR_MAX_RANK || H5Sget_simple_extent_dims(sp, hd, NULL) < 0) rc = -1;
        else {
            *rank = r;
            for (int i = 0; i < r && !rc; i++) {
                dims[i] = hd[i];
                if (hd[i] && *n > NIR_MAX_ELEMS / hd[i]) rc = -1;
                *n *= hd[i];
            }
        }
    } else if (cl != H5S_SCALAR) rc = -1;
    H5Sclose(sp);
    return rc;
}

/* Read dataset `name` of loc into p. obj names the group in messages. */
static int read_param(hid_t loc, const char *name, nir_param *p, const char *path, const char *obj) {
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: %s/%s: cannot open the dataset", path, obj, name);
    int rc = 0;
    if (read_shape(d, &p->rank, p->dims, &p->n))
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s/%s: rank above %d or more than %u elements", path, obj, name, NIR_MAX_RANK,
                          NIR_MAX_ELEMS);
    hid_t ft = H5Dget_type(d);
    H5T_class_t cl = ft < 0 ? H5T_NO_CLASS : H5Tget_class(ft);
    if (!rc && (cl == H5T_INTEGER || cl == H5T_FLOAT)) {
        p->dtype = cl == H5T_INTEGER ? NIR_I64 : H5Tget_size(ft) == 4 ? NIR_F32 : NIR_F64;
        p->v = malloc((p->n ? p->n : 1) * sizeof *p->v);
        if (!p->v) rc = evsnn_seterr(EVSNN_ENOMEM, "%s: %s/%s: no memory for %zu values", path, obj, name, p->n);
        else if (p->n && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->v) < 0)
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s/%s: cannot read the values as numbers", path, obj, name);
    } else if (!rc && cl == H5T_STRING) {
        p->dtype = NIR_STR;
        if (p->n == 1 && read_strings(d, ft, 1, &p->s))
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s/%s: cannot read the string", path, obj, name);
    } else if (!rc) {
        p->dtype = NIR_OTHER;
    }
    if (ft >= 0) H5Tclose(ft);
    H5Dclose(d);
    if (rc) param_free(p);
    return rc;
}

/* What a link of group g is: 1 a dataset, 2 a group, 0 anything else (soft, external,
 * committed type). */
static int link_kind(hid_t g, const char *name) {
    H5L_info_t li;
    if (H5Lget_info(g, name, &li, H5P_DEFAULT) < 0 || li.type != H5L_TYPE_HARD) return 0;
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0) return 0;
    H5I_type_t t = H5Iget_type(o);
    H5Oclose(o);
    return t == H5I_DATASET ? 1 : t == H5I_GROUP ? 2 : 0;
}

/* Name of link i of group g (name order) into buf. -1 if absent or too long. */
static int link_name(hid_t g, hsize_t i, char *buf, size_t len) {
    ssize_t k = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
    if (k < 0 || (size_t)k >= len) return -1;
    return H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, buf, len, H5P_DEFAULT) < 0 ? -1 : 0;
}

/* Read every dataset directly in group `gname` of loc into a list (metadata groups). */
static int read_group(hid_t loc, const char *gname, nir_param **out, uint32_t *nout, const char *path, const char *obj) {
    hid_t g = H5Gopen2(loc, gname, H5P_DEFAULT);
    if (g < 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: %s: cannot open the group", path, obj);
    H5G_info_t gi;
    int rc = H5Gget_info(g, &gi) < 0 ? evsnn_seterr(EVSNN_EFORMAT, "%s: %s: unreadable group", path, obj) : 0;
    if (!rc && gi.nlinks > 4096) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s: %llu entries (at most 4096)", path, obj,
                                                   (unsigned long long)gi.nlinks);
    for (hsize_t i = 0; !rc && i < gi.nlinks; i++) {
        char name[NIR_NAME_MAX];
        if (link_name(g, i, name, sizeof name)) { rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s: entry %llu has a name longer than %d bytes", path, obj, (unsigned long long)i, NIR_NAME_MAX - 1); break; }
        if (link_kind(g, name) != 1) continue; /* nested groups of metadata: not read */
        nir_param *np = realloc(*out, (*nout + 1) * sizeof *np);
        if (!np) { rc = evsnn_seterr(EVSNN_ENOMEM, "no memory"); break; }
        *out = np;
        if ((rc = read_param(g, name, &np[*nout], path, obj))) break;
        (*nout)++;
    }
    H5Gclose(g);
    return rc;
}

/* One node group: its type and parameter datasets, and its metadata group. */
static int read_node(hid_t nodes, nir_graph *g, const char *name, const char *path) {
    char obj[NIR_NAME_MAX + 16];
    snprintf(obj, sizeof obj, "/node/nodes/%s", name);
    if (link_kind(nodes, name) != 2) return evsnn_seterr(EVSNN_EFORMAT, "%s: %s is not a group (a node is a group)", path, obj);
    hid_t ng = H5Gopen2(nodes, name, H5P_DEFAULT);
    if (ng < 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: %s: cannot open", path, obj);
    int rc = 0;
    nir_param type;
    if (link_kind(ng, "type") != 1)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s': no 'type' dataset (expected a string such as \"LIF\")", path, name);
    else if (!(rc = read_param(ng, "type", &type, path, obj))) {
        if (type.dtype != NIR_STR || !type.s || !type.s[0] || strlen(type.s) >= sizeof g->nodes->type)
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s': 'type' is not a node type string", path, name);
        else if ((rc = nir_add_node(g, name, type.s)) >= 0) rc = 0;
        param_free(&type);
    }
    int idx = (int)g->n_nodes - 1;
    int nested = !rc && !strcmp(g->nodes[idx].type, "NIRGraph");
    H5G_info_t gi;
    if (!rc && H5Gget_info(ng, &gi) < 0) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: %s: unreadable group", path, obj);
    if (!rc && gi.nlinks > 256) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s': %llu entries (at most 256)", path, name, (unsigned long long)gi.nlinks);
    for (hsize_t i = 0; !rc && i < gi.nlinks; i++) {
        char pn[NIR_NAME_MAX];
        if (link_name(ng, i, pn, sizeof pn)) { rc = evsnn_seterr(EVSNN_EFORMAT, "%s: node '%s': entry %llu has a name longer than %d bytes", path, name, (unsigned long long)i, NIR_NAME_MAX - 1); break; }
        int k = link_kind(ng, pn);
        if (!strcmp(pn, "type")) continue;
        if (k == 2 && !strcmp(pn, "metadata")) {
            char mo[NIR_NAME_MAX + 32];
            snprintf(mo, sizeof mo, "%s/metadata", obj);
            rc = read_group(ng, pn, &g->nodes[idx].meta, &g->nodes[idx].n_meta, path, mo);
        } else if (k == 1 && !nested) {
            nir_node *nd = &g->nodes[idx];
            nir_param *np = realloc(nd->p, (nd->n_p + 1) * sizeof *np);
            if (!np) { rc = evsnn_seterr(EVSNN_ENOMEM, "no memory"); break; }
            nd->p = np;
            if (!(rc = read_param(ng, pn, &np[nd->n_p], path, obj))) nd->n_p++;
        } /* nested graphs' contents and other groups: not read */
    }
    H5Gclose(ng);
    return rc;
}

/* The N x 2 edge list: names looked up among the nodes read. */
static int read_edges(hid_t node, nir_graph *g, const char *path) {
    if (H5Lexists(node, "edges", H5P_DEFAULT) <= 0) return 0; /* a graph of one node has none */
    if (link_kind(node, "edges") != 1) return evsnn_seterr(EVSNN_EFORMAT, "%s: /node/edges is not a dataset", path);
    hid_t d = H5Dopen2(node, "edges", H5P_DEFAULT);
    if (d < 0) return evsnn_seterr(EVSNN_EFORMAT, "%s: /node/edges: cannot open", path);
    int rank;
    uint64_t dims[NIR_MAX_RANK];
    size_t n;
    int rc = 0;
    hid_t ft = H5Dget_type(d);
    if (read_shape(d, &rank, dims, &n)) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /node/edges: unusable shape", path);
    else if (n == 0) rc = 0; /* h5py writes an empty list as an empty float array */
    else if (H5Tget_class(ft) != H5T_STRING || rank != 2 || dims[1] != 2)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /node/edges: expected an N x 2 array of node-name strings", path);
    else if (dims[0] > NIR_MAX_EDGES)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /node/edges: %llu edges (at most %u)", path, (unsigned long long)dims[0], NIR_MAX_EDGES);
    else {
        char **s = calloc(n, sizeof *s);
        if (!s) rc = evsnn_seterr(EVSNN_ENOMEM, "no memory for %zu edge names", n);
        else if (read_strings(d, ft, n, s)) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /node/edges: cannot read the names", path);
        for (size_t e = 0; !rc && e < n / 2; e++) {
            int a = nir_find_node(g, s[2 * e]), b = nir_find_node(g, s[2 * e + 1]);
            if (a < 0 || b < 0)
                rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /node/edges[%zu]: '%.64s' -> '%.64s': no node '%.64s' in /node/nodes (missing node)",
                                  path, e, s[2 * e], s[2 * e + 1], a < 0 ? s[2 * e] : s[2 * e + 1]);
            else rc = nir_add_edge(g, (uint32_t)a, (uint32_t)b);
        }
        for (size_t i = 0; s && i < n; i++) free(s[i]);
        free(s);
    }
    H5Tclose(ft);
    H5Dclose(d);
    return rc;
}

/* A scalar string dataset into buf ("" and -1 if absent or not a string). */
static int read_str(hid_t loc, const char *name, char *buf, size_t len, const char *path) {
    buf[0] = 0;
    if (link_kind(loc, name) != 1) return -1;
    nir_param p;
    if (read_param(loc, name, &p, path, "/")) return -1;
    int rc = p.dtype == NIR_STR && p.s ? 0 : -1;
    if (!rc) snprintf(buf, len, "%s", p.s);
    param_free(&p);
    return rc;
}

nir_graph *nir_read(const char *path, int *err) {
    h5u_quiet();
    if (access(path, R_OK) != 0) { *err = evsnn_seterr(EVSNN_EIO, "%s: cannot read the file", path); return NULL; }
    if (H5Fis_hdf5(path) <= 0) { *err = evsnn_seterr(EVSNN_EFORMAT, "%s: not an HDF5 file (expected a NIR graph)", path); return NULL; }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) { *err = evsnn_seterr(EVSNN_EIO, "%s: cannot open", path); return NULL; }
    nir_graph *g = nir_graph_create();
    hid_t node = -1, nodes = -1;
    int rc = g ? 0 : evsnn_seterr(EVSNN_ENOMEM, "no memory");
    evsnn_clearerr();
    if (!rc) {
        read_str(f, "version", g->version, sizeof g->version, path);
        if (g->version[0] && atoi(g->version) >= 2)
            rc = evsnn_seterr(EVSNN_EVERSION, "%s: /version '%s' is newer than the NIR 1.x layout this evsnn reads: upgrade evsnn",
                              path, g->version);
    }
    if (!rc && link_kind(f, "node") != 2) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: no group /node (not a NIR graph)", path);
    if (!rc && (node = H5Gopen2(f, "node", H5P_DEFAULT)) < 0) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /node: cannot open", path);
    char type[64];
    if (!rc && (read_str(node, "type", type, sizeof type, path) || strcmp(type, "NIRGraph")))
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /node/type is '%s', expected \"NIRGraph\"", path, type);
    if (!rc && link_kind(node, "nodes") != 2) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: no group /node/nodes", path);
    if (!rc && (nodes = H5Gopen2(node, "nodes", H5P_DEFAULT)) < 0) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /node/nodes: cannot open", path);
    H5G_info_t gi;
    if (!rc && H5Gget_info(nodes, &gi) < 0) rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /node/nodes: unreadable", path);
    if (!rc && gi.nlinks > NIR_MAX_NODES)
        rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /node/nodes: %llu nodes (at most %d)", path, (unsigned long long)gi.nlinks, NIR_MAX_NODES);
    for (hsize_t i = 0; !rc && i < gi.nlinks; i++) {
        char name[NIR_NAME_MAX];
        if (link_name(nodes, i, name, sizeof name))
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: /node/nodes: node %llu has a name longer than %d bytes", path, (unsigned long long)i,
                              NIR_NAME_MAX - 1);
        else rc = read_node(nodes, g, name, path);
    }
    if (!rc) rc = read_edges(node, g, path);
    if (!rc && link_kind(node, "metadata") == 2) rc = read_group(node, "metadata", &g->meta, &g->n_meta, path, "/node/metadata");
    if (nodes >= 0) H5Gclose(nodes);
    if (node >= 0) H5Gclose(node);
    H5Fclose(f);
    if (rc) {
        nir_graph_free(g);
        *err = rc;
        return NULL;
    }
    *err = 0;
    return g;
}

int nir_detect(const char *path) {
    h5u_quiet();
    if (access(path, R_OK) != 0 || H5Fis_hdf5(path) <= 0) return 0;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return 0;
    int yes = link_kind(f, "node") == 2;
    if (yes) {
        hid_t node = H5Gopen2(f, "node", H5P_DEFAULT);
        yes = node >= 0 && link_kind(node, "nodes") == 2;
        if (node >= 0) H5Gclose(node);
    }
    H5Fclose(f);
    return yes;
}

/* ---- writing ---- */

static hid_t vlen_utf8(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    return t;
}

/* A dataset `name` in loc: rank 0 is a scalar dataspace, as h5py writes 0-d arrays. */
static int put_dataset(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims, const void *v) {
    hid_t sp = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t d = sp < 0 ? -1 : H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = d < 0 ? -1 : H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    return rc < 0 ? -1 : 0;
}

static int put_param(hid_t loc, const nir_param *p) {
    if (p->dtype == NIR_STR) {
        hid_t t = vlen_utf8();
        const char *s = p->s ? p->s : "";
        int rc = put_dataset(loc, p->name, t, t, 0, NULL, &s);
        H5Tclose(t);
        return rc;
    }
    if (p->dtype == NIR_OTHER || !p->v) return -1;
    hsize_t dims[NIR_MAX_RANK];
    for (int i = 0; i < p->rank; i++) dims[i] = p->dims[i];
    hid_t ft = p->dtype == NIR_F32 ? H5T_IEEE_F32LE : p->dtype == NIR_F64 ? H5T_IEEE_F64LE : H5T_STD_I64LE;
    return put_dataset(loc, p->name, ft, H5T_NATIVE_DOUBLE, p->rank, dims, p->v);
}

/* Datasets of a list into a new group `name` of loc (metadata); nothing when empty, as
 * nir.write skips an empty metadata dict. */
static int put_group(hid_t loc, const char *name, const nir_param *p, uint32_t n) {
    if (!n) return 0;
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return -1;
    int bad = 0;
    for (uint32_t i = 0; i < n; i++) bad |= put_param(g, &p[i]);
    H5Gclose(g);
    return bad;
}

int nir_write(const char *path, const nir_graph *g) {
    h5u_quiet();
    char tmp[4096 + REPLACE_TMP_EXTRA];
    int rc = replace_tmpname(tmp, sizeof tmp, path);
    if (rc) return rc;
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return evsnn_seterr(EVSNN_EIO, "%s: cannot create (directory missing or not writable?)", tmp);
    int bad = 0;
    hid_t s = vlen_utf8();
    const char *ver = g->version[0] ? g->version : NIR_LAYOUT_VERSION, *gt = "NIRGraph";
    bad |= put_dataset(f, "version", s, s, 0, NULL, &ver);
    hid_t node = H5Gcreate2(f, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t nodes = node < 0 ? -1 : H5Gcreate2(node, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    bad |= nodes < 0;
    if (!bad) bad |= put_dataset(node, "type", s, s, 0, NULL, &gt);
    for (uint32_t i = 0; i < g->n_nodes && !bad; i++) {
        const nir_node *nd = &g->nodes[i];
        hid_t ng = H5Gcreate2(nodes, nd->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (ng < 0) { bad = 1; break; }
        const char *t = nd->type;
        bad |= put_dataset(ng, "type", s, s, 0, NULL, &t);
        for (uint32_t k = 0; k < nd->n_p; k++) bad |= put_param(ng, &nd->p[k]);
        bad |= put_group(ng, "metadata", nd->meta, nd->n_meta);
        H5Gclose(ng);
    }
    if (!bad) {
        const char **names = malloc((g->n_edges ? g->n_edges : 1) * 2 * sizeof *names);
        if (!names) bad = 1;
        for (uint32_t e = 0; names && e < g->n_edges; e++) {
            names[2 * e] = g->nodes[g->edges[e][0]].name;
            names[2 * e + 1] = g->nodes[g->edges[e][1]].name;
        }
        hsize_t d[2] = {g->n_edges, 2};
        if (names) bad |= put_dataset(node, "edges", s, s, 2, d, names);
        free(names);
        bad |= put_group(node, "metadata", g->meta, g->n_meta);
    }
    H5Tclose(s);
    if (nodes >= 0) H5Gclose(nodes);
    if (node >= 0) H5Gclose(node);
    if (H5Fclose(f) < 0) bad = 1;
    if (bad) {
        replace_discard(tmp);
        return evsnn_seterr(EVSNN_EIO, "%s: writing the NIR graph failed (disk full?)", path);
    }
    return replace_commit(tmp, path);
}

/* ---- order ---- */

int nir_topo_order(const nir_graph *g, const char *path, uint32_t *order) {
    const uint32_t n = g->n_nodes;
    uint32_t *indeg = calloc(n ? n : 1, sizeof *indeg);
    char *done = calloc(n ? n : 1, 1);
    if (!indeg || !done) { free(indeg); free(done); return evsnn_seterr(EVSNN_ENOMEM, "no memory"); }
    for (uint32_t e = 0; e < g->n_edges; e++) indeg[g->edges[e][1]]++;
    uint32_t k = 0;
    /* Smallest ready index first: O(V²) for at most NIR_MAX_NODES nodes. */
    for (;;) {
        uint32_t v = n;
        for (uint32_t i = 0; i < n && v == n; i++)
            if (!done[i] && indeg[i] == 0) v = i;
        if (v == n) break;
        done[v] = 1;
        order[k++] = v;
        for (uint32_t e = 0; e < g->n_edges; e++)
            if (g->edges[e][0] == v) indeg[g->edges[e][1]]--;
    }
    int rc = 0;
    if (k < n) {
        /* Every node left has a predecessor that is left too: walking predecessors must
         * come back to a node already seen, which closes a cycle. */
        uint32_t *seen = calloc(n, sizeof *seen), *walk = calloc(n + 1, sizeof *walk), len = 0, v = 0;
        while (done[v]) v++;
        if (seen && walk) {
            for (;;) {
                seen[v] = len + 1;
                walk[len++] = v;
                uint32_t p = n;
                for (uint32_t e = 0; e < g->n_edges && p == n; e++)
                    if (g->edges[e][1] == v && !done[g->edges[e][0]]) p = g->edges[e][0];
                if (p == n || seen[p]) { v = p; break; }
                v = p;
            }
            char msg[1024] = "";
            size_t u = 0;
            if (v < n) {
                /* walk[first .. len-1] runs backwards along the cycle (walk[i+1] -> walk[i],
                 * and walk[first] -> walk[len-1]): print it forwards from walk[first]. */
                uint32_t first = seen[v] - 1;
                u += (size_t)snprintf(msg, sizeof msg, "'%.64s'", g->nodes[walk[first]].name);
                for (uint32_t i = len; i-- > first + 1 && u < sizeof msg - 80;)
                    u += (size_t)snprintf(msg + u, sizeof msg - u, " -> '%.64s'", g->nodes[walk[i]].name);
                snprintf(msg + u, sizeof msg - u, " -> '%.64s'", g->nodes[walk[first]].name);
            }
            rc = evsnn_seterr(EVSNN_EFORMAT, "%s: the graph has a cycle: %s (evsnn runs feed-forward chains: recurrent connections are not supported)",
                              path, msg);
        } else rc = evsnn_seterr(EVSNN_ENOMEM, "no memory");
        free(seen);
        free(walk);
    }
    free(indeg);
    free(done);
    return rc;
}
