"""Pages of the cooperatives register: entities, bindings, memberships and earnings, 致富带头人."""
