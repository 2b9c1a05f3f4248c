/*
 * What the KMIP operations (kmip_ops.c and kop_*.c) share among
 * themselves; kreq.h has what the rest of the engine calls.
 */
#ifndef KOP_H
#define KOP_H

#include <stddef.h>
#include <stdint.h>

#include "kreq.h"

/* kmip_ops.c: helpers of every operation */
#define KOP_OWNER_ATTR	"x-signerd-owner"	/* admins: for whom */
int		 kop_client_attr(const char *, int *, int *);
const char	*kop_value_bad(const char *, const struct ttlv *);
int		 kop_protected(struct kreq *, const struct ttlv *,
		    const char *, const struct ttlv *);
int		 kop_load(struct kreq *, const struct ttlv *, char *, size_t);
int		 kop_save(struct kreq *, struct ks_object *, struct ttlv *,
		    int);
int		 kop_template(struct kreq *, const struct ttlv *,
		    struct ttlv *);
void		 kop_payload_id(struct kreq *, const char *);
int		 kop_signer_failed(struct kreq *, const struct hsm_result *);
void		 kop_set_material(struct ks_object *, const uint8_t *, size_t);
int		 kop_new_object(struct kreq *, struct ks_object *, uint32_t,
		    uint32_t, const char *);
const char	*kop_default_signer(struct kreq *);
void		 kop_initial_attrs(struct ttlv *, struct ks_object *);

/* kop_token.c: keys in a token */
int		 kop_on_token(const struct ks_object *, const struct ttlv *);
int		 kop_signer_is_token(const char *);
int		 kop_token_adopted(const struct ks_object *,
		    const struct ttlv *);
int		 kop_label(struct kreq *, const struct ttlv *, const char *,
		    char *, size_t);
int		 kop_name_to_token(struct kreq *, const char *,
		    struct ttlv *);
int		 kop_hsm_ids(struct kreq *, const struct ttlv *,
		    const struct ttlv *, const struct ttlv *, char *,
		    const char **);
enum kop_ret	 kop_locate_hsm(struct kreq *, const char *);

/* kop_create.c */
#define KOP_OPAQUE_MAX	(64 * 1024)	/* an Opaque Object's value */
void		 kop_token_attrs(const char *, struct ttlv *);
void		 kop_rng_attr(const char *, struct ttlv *);
enum kop_ret	 op_create(struct kreq *, const struct ttlv *);
enum kop_ret	 op_create_key_pair(struct kreq *, const struct ttlv *);
enum kop_ret	 op_register(struct kreq *, const struct ttlv *);

/* kop_get.c */
int		 kop_spki_rsa(const uint8_t *, size_t, const uint8_t **,
		    size_t *);
enum kop_ret	 op_get(struct kreq *, const struct ttlv *);

/* kop_attr.c */
enum kop_ret	 op_get_attributes(struct kreq *, const struct ttlv *);
enum kop_ret	 op_get_attribute_list(struct kreq *, const struct ttlv *);
enum kop_ret	 op_add_attribute(struct kreq *, const struct ttlv *);
enum kop_ret	 op_modify_attribute(struct kreq *, const struct ttlv *);
enum kop_ret	 op_delete_attribute(struct kreq *, const struct ttlv *);

/* kop_life.c */
enum kop_ret	 op_activate(struct kreq *, const struct ttlv *);
enum kop_ret	 op_revoke(struct kreq *, const struct ttlv *);
enum kop_ret	 op_destroy(struct kreq *, const struct ttlv *);

/* kop_check.c */
enum kop_ret	 op_check(struct kreq *, const struct ttlv *);

/* kop_locate.c */
enum kop_ret	 op_locate(struct kreq *, const struct ttlv *);

/* kop_crypto.c */
int		 kop_key_kind(struct kreq *, const struct ttlv *, uint32_t *);
enum kop_ret	 op_crypto(struct kreq *, const struct ttlv *);

/* kop_keyless.c */
int		 kop_no_stream(struct kreq *, const struct ttlv *);
#define KOP_HASH_NONE	0xffffffff	/* kop_hsm_hash: not one of ours */
uint32_t	 kop_hsm_hash(uint32_t);
enum kop_ret	 op_hash(struct kreq *, const struct ttlv *);
enum kop_ret	 op_rng_retrieve(struct kreq *, const struct ttlv *);
enum kop_ret	 op_rng_seed(struct kreq *, const struct ttlv *);

#endif /* KOP_H */
